"""TryOn end to end through gRPC + Celery (gateway -> render), and catalog re-render
jobs on the batch queue: throughput, and what a running batch does to interactive latency.

    .venv/bin/python -m bench.bench_tryon

A private stack (bench/stack_load.py: free ports, Redis database 14) with the recon, render and
render-batch workers, prefork x2 each (TryOn is one task on the render queue: render reads the
geometry recon cached for a Reconstruct, or finds the faces itself; recon serves Reconstruct),
on a SQLite catalog seeded from the real shade data in a temporary folder. The selfie scene of
bench/images.py (face box ~260x300 px in 640x480) as JPEG. Looks: one lipstick, and a full
look of five catalog products (foundation, blush, eyeshadow, eyeliner, lipstick: each
category's first product). Modes: recon cached through the face_id of an earlier Reconstruct,
recon cached through the same bytes again, and uncached (every request distinct bytes, same
pixels). References, measured in this process before the stack starts, one thread: what the
render worker does for one request (`TryOnEngine.process` in photo mode, on the cached
geometry and finding the faces itself), and a re-render chunk (decode, render each shade,
encode, write). Re-render throughput: RerenderCatalog (every lipstick shade on the built-in
reference faces), GetJob polled until done, a few such jobs back to back; then as many again
while TryOn runs at concurrency 1, whose p99 is compared with TryOn measured idle just before.
~1.5 minutes. Prints; never asserts.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import numpy as np

from bench.images import PORTRAIT, jpeg_variants, selfie
from bench.stack_load import AUTH, TENANT, pct, private_stack, run_load
from services.common.image_codec import decode_image, encode_image
from services.common.payloads import AppliedProduct
from services.render.catalog import CatalogStore
from services.render.catalog.seed import seed
from services.render.engine import Frame, TryOnEngine
from services.render.rerender_jobs import CHUNK_SIZE
from tests.conftest import shared_data_dir
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import job_service_pb2 as jpb
from tryon.v1 import job_service_pb2_grpc as jpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

FULL_LOOK = ("foundation", "blush", "eyeshadow", "eyeliner", "lipstick")  # paint order
GOAL_P50_MS = {"cached": 20.0, "uncached": 35.0}
GOAL_P99_MS = 60.0
MAX_FACES = 5  # the render worker's (Settings.max_faces: TRYON_MAX_FACES, default 5)
GOAL_BATCH_P99_RATIO = 1.5
REQUESTS = {1: 80, 4: 160}  # per row, by concurrency
IDLE_REQUESTS = 150
# GetJob is a task on the interactive render queue: while TryOn is measured, poll like a
# client would; alone, often enough to time a job of a second or two.
POLL_S = 0.2
POLL_ALONE_S = 0.05
BATCH_JOBS = 6  # half alone, half under interactive load
FINISHED = (types_pb2.JOB_STATE_SUCCEEDED, types_pb2.JOB_STATE_FAILED,
            types_pb2.JOB_STATE_CANCELLED)  # fmt: skip


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


class Bare:
    """The workers' own work, in this process (one thread), on the same inputs: per TryOn,
    `TryOnEngine.process` in photo mode as the render worker calls it (ms by look: `cached` on
    the geometry recon cached, `uncached` finding the faces itself), and per re-rendered shade
    (batch_per_s)."""

    def __init__(
        self, store: CatalogStore, looks: dict[str, list[str]], data: bytes, out: Path
    ) -> None:
        engine = TryOnEngine()
        frame = Frame(data=data)
        self.cached_ms: dict[str, float] = {}
        self.uncached_ms: dict[str, float] = {}
        for name, product_ids in looks.items():
            look = store.resolve_look(TENANT, [AppliedProduct(product_id=p) for p in product_ids])
            found = engine.process(frame, look, max_faces=MAX_FACES).geometry
            if not found:
                raise RuntimeError("no face found in the selfie scene")
            self.cached_ms[name] = _median_ms(
                lambda look=look, found=found: engine.process(
                    frame, look, geometry=found, max_faces=MAX_FACES
                ),
                30,
            )
            self.uncached_ms[name] = _median_ms(
                lambda look=look: engine.process(frame, look, max_faces=MAX_FACES), 30
            )
        # What a batch chunk does (tasks.py rerender_chunk) for every lipstick shade.
        reference = PORTRAIT.read_bytes()
        ref_landmarks = engine.process(Frame(data=reference), [], max_faces=1).faces[0].landmarks
        shades = _all_shades(store, "lipstick")
        begin = time.perf_counter()
        for start in range(0, len(shades), CHUNK_SIZE):
            chunk = shades[start : start + CHUNK_SIZE]
            rgb = decode_image(reference, 50_000_000).rgb
            for i, img in enumerate(engine.renderer.render_many(rgb, ref_landmarks, chunk)):
                (out / f"{start + i}.jpg").write_bytes(encode_image(img, "jpeg"))
        self.batch_per_s = len(shades) / (time.perf_counter() - begin)

    def ms(self, look: str, mode: str) -> float:
        return (self.uncached_ms if mode == "uncached" else self.cached_ms)[look]


def try_on(channel: grpc.aio.Channel) -> Callable[[pb.TryOnRequest], Awaitable[object]]:
    stub = pb_grpc.TryOnServiceStub(channel)
    return lambda request: stub.TryOn(request, metadata=AUTH, timeout=60)


def request(
    product_ids: list[str], image: bytes | None = None, face_id: str | None = None
) -> pb.TryOnRequest:
    look = types_pb2.Look(applications=[types_pb2.Application(product_id=p) for p in product_ids])
    if face_id is not None:
        return pb.TryOnRequest(face_id=face_id, look=look)
    return pb.TryOnRequest(image=types_pb2.Image(data=image), look=look)


async def rerender(
    addr: str, requests: list[cpb.RerenderCatalogRequest], poll_s: float, done: asyncio.Event
) -> tuple[int, float]:
    """Runs the jobs one after the other, each polled until it ends; sets `done` then.
    (renders done, wall seconds from the first RerenderCatalog to the last job seen done)."""
    renders = 0
    async with grpc.aio.insecure_channel(addr) as channel:
        catalog, jobs = cpb_grpc.CatalogServiceStub(channel), jpb_grpc.JobServiceStub(channel)
        begin = time.perf_counter()
        try:
            for job_request in requests:
                job = await catalog.RerenderCatalog(job_request, metadata=AUTH, timeout=60)
                while job.state not in FINISHED:
                    await asyncio.sleep(poll_s)
                    job = await jobs.GetJob(
                        jpb.GetJobRequest(job_id=job.job_id), metadata=AUTH, timeout=10
                    )
                if job.state != types_pb2.JOB_STATE_SUCCEEDED:
                    state = types_pb2.JobState.Name(job.state)
                    raise RuntimeError(f"re-render job ended {state}: {job.error}")
                renders += job.done
        finally:
            done.set()
        return renders, time.perf_counter() - begin


async def bench(
    addr: str, rgb: np.ndarray, looks: dict[str, list[str]], lipstick_ids: list[str], bare: Bare
) -> None:
    cached_bytes = jpeg_variants(rgb, 1, quality=88)[0]
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = pb_grpc.TryOnServiceStub(channel)
        geometry = (
            await stub.Reconstruct(
                pb.ReconstructRequest(image=types_pb2.Image(data=cached_bytes)),
                metadata=AUTH,
                timeout=60,
            )
        ).geometry
        if len(geometry.faces) != 1:
            raise RuntimeError(f"the selfie scene has {len(geometry.faces)} faces, expected 1")
        face_id = geometry.face_id
        reply = await stub.TryOn(request(looks["full look"], face_id=face_id),
                                 metadata=AUTH, timeout=60)  # fmt: skip
        if decode_image(reply.image.data, 50_000_000).rgb.shape != rgb.shape:
            raise RuntimeError("TryOn returned an image of another size")
    # Both looks through every render process (each caches the products it resolved).
    warm = jpeg_variants(rgb, 8, quality=87)
    await run_load(addr, [request(looks["lipstick"], image=d) for d in warm], 4, try_on)
    for product_ids in looks.values():
        await run_load(addr, [request(product_ids, face_id=face_id)] * 8, 4, try_on)

    print(
        "\nTryOn end to end (gRPC -> gateway -> Redis/Celery -> render: one task that reads "
        "recon's cached geometry or finds the faces itself; 640x480 selfie, JPEG out; recon, "
        "render and render-batch workers prefork x2 on 2 cores)"
    )
    for mode, by_look in (("cached geometry", bare.cached_ms), ("uncached", bare.uncached_ms)):
        figures = ", ".join(f"{k} {v:.1f} ms" for k, v in by_look.items())
        print(f"  bare TryOnEngine.process, photo, {mode} (in-process, 1 thread): {figures}")
    print(
        f"  goals: p50 <= {GOAL_P50_MS['cached']:.0f} ms cached / "
        f"{GOAL_P50_MS['uncached']:.0f} ms uncached, p99 <= {GOAL_P99_MS:.0f} ms"
    )
    print(
        f"  {'look':9s} {'recon':17s} {'conc':>4s} {'n':>4s} {'p50 ms':>7s} {'p99 ms':>7s} "
        f"{'req/s':>6s} {'p50/goal':>8s} {'p99/goal':>8s} {'p50 - bare':>10s}"
    )
    offset = 0
    full_look_p99: dict[str, float] = {}
    for name, product_ids in looks.items():
        for mode in ("cached face_id", "cached bytes", "uncached"):
            for concurrency, n in REQUESTS.items():
                if mode == "cached face_id":
                    items = [request(product_ids, face_id=face_id)] * n
                elif mode == "cached bytes":
                    items = [request(product_ids, image=cached_bytes)] * n
                else:
                    variants = jpeg_variants(rgb, offset + n)[offset:]
                    offset += n
                    items = [request(product_ids, image=d) for d in variants]
                lat, wall = await run_load(addr, items, concurrency, try_on)
                goal = GOAL_P50_MS[mode.split()[0]]
                p50, p99 = pct(lat, 50), pct(lat, 99)
                if name == "full look" and concurrency == 4 and mode != "cached bytes":
                    full_look_p99[mode.split()[0]] = p99
                print(
                    f"  {name:9s} {mode:17s} {concurrency:4d} {len(lat):4d} {p50:7.1f} "
                    f"{p99:7.1f} {len(lat) / wall:6.1f} {p50 / goal:8.2f} "
                    f"{p99 / GOAL_P99_MS:8.2f} {p50 - bare.ms(name, mode):+7.1f} ms"
                )
    print(
        f"  photo TryOn full look p99 at concurrency 4: cached {full_look_p99['cached']:.1f} ms, "
        f"uncached {full_look_p99['uncached']:.1f} ms  (goal <= {GOAL_P99_MS:.0f} ms)"
    )

    # -- catalog re-renders ----------------------------------------------------------------
    # Every lipstick shade, as several jobs back to back so each phase lasts seconds. A job is
    # its request (the same request again returns the finished job), so each names one more
    # lipstick product: explicit product ids are united with the category filter, which
    # already holds them, so every job renders the same shades.
    lipsticks = [types_pb2.PRODUCT_CATEGORY_LIPSTICK]
    jobs = [cpb.RerenderCatalogRequest(categories=lipsticks)] + [
        cpb.RerenderCatalogRequest(categories=lipsticks, product_ids=[p]) for p in lipstick_ids
    ]
    half = len(jobs) // 2
    renders_a, wall_a = await rerender(addr, jobs[:half], POLL_ALONE_S, asyncio.Event())
    lipstick_look = [request(looks["lipstick"], face_id=face_id)]
    idle, _ = await run_load(addr, lipstick_look * IDLE_REQUESTS, 1, try_on)
    done = asyncio.Event()
    (renders_b, wall_b), (during, _) = await asyncio.gather(
        rerender(addr, jobs[half:], POLL_S, done),
        run_load(addr, lipstick_look * 100_000, 1, try_on, stop=done),
    )
    rate_a, rate_b = renders_a / wall_a, renders_b / wall_b
    print(
        f"\nCatalog re-render (RerenderCatalog: every lipstick shade on the built-in reference "
        f"faces, {half} jobs back to back; render-batch worker prefork x2 at nice 10)"
    )
    print(
        f"  bare in-process, one process (decode, render_many, encode, write): "
        f"{bare.batch_per_s:.1f} renders/s"
    )
    print(
        f"  alone (GetJob every {POLL_ALONE_S} s):     {renders_a:5d} renders in {wall_a:5.1f} s "
        f"= {rate_a:6.1f} renders/s ({rate_a / bare.batch_per_s:.2f} x bare)"
    )
    print(
        f"  with TryOn conc 1 (every {POLL_S} s): {renders_b:5d} renders in {wall_b:5.1f} s "
        f"= {rate_b:6.1f} renders/s ({rate_b / bare.batch_per_s:.2f} x bare)"
    )
    ratio = pct(during, 99) / pct(idle, 99)
    print(
        f"  interactive TryOn lipstick (cached face_id, conc 1): idle p50 {pct(idle, 50):.1f} / "
        f"p99 {pct(idle, 99):.1f} ms (n={len(idle)}); during the batch p50 "
        f"{pct(during, 50):.1f} / p99 {pct(during, 99):.1f} ms (n={len(during)})"
    )
    print(f"  p99 during batch / idle = {ratio:.2f}  (goal <= {GOAL_BATCH_P99_RATIO})")


def main() -> None:
    rgb = selfie(1)
    data = jpeg_variants(rgb, 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'catalog.db'}"
        store = CatalogStore(database_url)
        try:
            seed(store, shared_data_dir())
            looks = {
                "lipstick": _product_ids(store, "lipstick", 1),
                "full look": [_product_ids(store, c, 1)[0] for c in FULL_LOOK],
            }
            lipstick_ids = _product_ids(store, "lipstick", BATCH_JOBS - 1)
            (Path(tmp) / "bare").mkdir()
            bare = Bare(store, looks, data, Path(tmp) / "bare")
        finally:
            store.dispose()
        env = {
            "DATABASE_URL": database_url,
            "TRYON_RENDER_OUTPUT_DIR": str(Path(tmp) / "renders"),
            # The built-in reference faces (the default), which Bare re-renders too.
            "TRYON_REFERENCE_FACES_DIR": str(PORTRAIT.parent),
            "TRYON_IMAGE_TTL_SECONDS": "600",
        }
        with private_stack(("recon", "render", "render-batch"), env, timeout_s=180) as stack:
            asyncio.run(bench(stack.grpc_addr, rgb, looks, lipstick_ids, bare))


def _product_ids(store: CatalogStore, category: str, n: int) -> list[str]:
    """The first n products of `category`, in the catalog's own order."""
    products, _ = store.list_products(TENANT, category=category, page_size=n)
    if len(products) < n:
        raise RuntimeError(f"the seeded catalog has fewer than {n} {category} products")
    return [p.product_id for p in products]


def _all_shades(store: CatalogStore, category: str) -> list[AppliedProduct]:
    """Every shade of `category`, resolved, as the batch worker paints them."""
    shades: list[AppliedProduct] = []
    token = ""
    while True:
        products, token = store.list_products(
            TENANT, category=category, page_size=500, page_token=token
        )
        for p in sorted(products, key=lambda p: p.product_id):
            shades += [AppliedProduct.paint(p.category, s.hex, finish=s.finish, opacity=s.opacity,
                                            coverage=s.coverage) for s in p.shades]  # fmt: skip
        if not token:
            return shades


if __name__ == "__main__":
    main()
