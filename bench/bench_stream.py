"""StreamTryOn (live video) end to end through gRPC, Redis and the stream worker: sustained output
fps, dropped frames and frame latency of camera-paced streams, the most one stream can do,
several streams at once, the server's per-stage timings, and the transport's cost per frame.

    .venv/bin/python -m bench.bench_stream

A private stack (bench/stack_load.py: free ports, Redis database 14) with the render-stream
worker (frames popped from the `stream` Redis list, two processes) on a SQLite catalog seeded
from the real shade data in a temporary folder. Frames: the real clip `video/d0.mp4` of the
shared data (78 frames, 512x512, a frontal face), played forward then backward so the motion
never jumps, each frame scaled to the output height and widened to 640x480 and 1280x720 with its
own edge pixels (no stretch), JPEG q88, encoded once up front. Look: the first lipstick, blush
and eyeshadow of the seeded catalog. Every stream sends its config (max_faces 1: a selfie
camera), then frames with their capture time (30 fps); the clients are `grpc.aio` streams in
this process, on the same 2 cores as the stack.

Rows: one stream paced like a camera (a frame every 33.3 ms, real time, 10 s): replies per
second, frames the server dropped (a newer one arrived while they waited), p50/p99 latency from
the client's send to the reply; the same stream unpaced (the next frame sent when the previous
reply arrives: one in flight, the most one stream does); both at 640x480 and 1280x720; then 4
camera-paced 640x480 streams at once. Per row, the server's mean per-stage timings. References,
measured in this process before the stack starts, one calling thread: `TryOnEngine.process` in
video mode on the same frames (decode, track, smooth, paint, encode: what the worker does per
frame) and JPEG decode + encode alone; the stack overhead is p50 latency minus the bare engine's
p50. Transport: a no-op frame (64x64 grey, no face, empty look) round trip, minus the worker's
own time, and in the streams the gateway's total_ms minus worker_ms. ~2 minutes. Prints; never
asserts."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import grpc
import numpy as np

from bench.stack_load import AUTH, TENANT, pct, private_stack
from services.common.image_codec import decode_image, encode_image
from services.common.payloads import AppliedProduct
from services.render.catalog import CatalogStore
from services.render.catalog.seed import seed
from services.render.engine import Frame, StreamState, TryOnEngine
from tests.conftest import shared_data_dir
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

SIZES = {"640x480": (640, 480), "1280x720": (1280, 720)}
LOOK = ("blush", "eyeshadow", "lipstick")  # paint order
QUALITY = 88
CAMERA_FPS = 30.0
DURATION_S = 10.0
NOOP_DURATION_S = 4.0
CONCURRENT_STREAMS = 4
MAX_FACES = 1
GOAL_FPS = {"640x480": 30.0, "1280x720": 25.0}
GOAL_P99_MS = {"640x480": 100.0}
GOAL_FPS_EACH = 20.0  # CONCURRENT_STREAMS streams of 640x480 at 30 fps
BARE_FRAMES = 156  # twice the clip
STAGES = ("decode", "detect", "landmarks", "smooth", "render", "encode", "worker", "total")


def clip_frames(size: tuple[int, int]) -> list[bytes]:
    """d0.mp4 forward then backward, each frame scaled to the height and widened to `size`
    with its edge pixels, as JPEG."""
    width, height = size
    capture = cv2.VideoCapture(str(shared_data_dir() / "video" / "d0.mp4"))
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        scale = height / bgr.shape[0]
        bgr = cv2.resize(bgr, (round(bgr.shape[1] * scale), height), interpolation=cv2.INTER_AREA
                         if scale < 1 else cv2.INTER_CUBIC)  # fmt: skip
        left = (width - bgr.shape[1]) // 2
        bgr = cv2.copyMakeBorder(bgr, 0, 0, left, width - bgr.shape[1] - left,
                                 cv2.BORDER_REPLICATE)  # fmt: skip
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        assert ok
        frames.append(buf.tobytes())
    capture.release()
    if len(frames) < 10:
        raise RuntimeError("d0.mp4 has fewer than 10 frames")
    return frames + frames[-2:0:-1]


def noop_frame() -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


# -- references, in this process ---------------------------------------------------------------
@dataclass
class Bare:
    per_frame_ms: list[float]
    stages_ms: dict[str, float]
    codec_ms: float  # JPEG decode + encode alone, median
    detected: int  # frames that ran the face detector


def bare_engine(engine: TryOnEngine, frames: list[bytes], look: list[AppliedProduct]) -> Bare:
    """`TryOnEngine.process` in video mode over the frames, as the stream worker runs them."""
    state = StreamState()
    for i in range(10):  # warm-up: the first frame detects, a few track
        state = engine.process(Frame(data=frames[i]), look, state, max_faces=MAX_FACES,
                               timestamp_s=i / CAMERA_FPS).state  # fmt: skip
    state, times, stages, detected = StreamState(), [], [], 0
    for i in range(BARE_FRAMES):
        begin = time.perf_counter()
        result = engine.process(
            Frame(data=frames[i % len(frames)]), look, state, max_faces=MAX_FACES,
            timestamp_s=i / CAMERA_FPS,
        )  # fmt: skip
        times.append((time.perf_counter() - begin) * 1000)
        state = result.state
        stages.append(result.timings_ms)
        detected += not result.tracked
    codec = []
    for i in range(BARE_FRAMES // 2):
        begin = time.perf_counter()
        encode_image(decode_image(frames[i % len(frames)], 50_000_000).rgb, "jpeg")
        codec.append((time.perf_counter() - begin) * 1000)
    means = {s: statistics.fmean(t.get(s, 0.0) for t in stages) for s in STAGES[:-1]}
    return Bare(times, means, statistics.median(codec), detected)


# -- streams through the stack ----------------------------------------------------------------
@dataclass
class StreamRun:
    sent: int = 0
    latencies: list[float] = field(default_factory=list)  # s, client send -> reply, rendered
    replies: list[pb.StreamTryOnResponse] = field(default_factory=list)  # rendered
    dropped: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0  # first send -> last reply

    @property
    def fps(self) -> float:
        return len(self.replies) / self.wall_s if self.wall_s else 0.0

    def p(self, q: float) -> float:
        return pct(self.latencies, q) if self.latencies else float("nan")

    def stage_means(self) -> dict[str, float]:
        t = [r.timings for r in self.replies]
        return {s: statistics.fmean(getattr(x, f"{s}_ms") for x in t) for s in STAGES} if t else {}

    def transport_ms(self) -> list[float]:
        """Gateway receipt -> reply leaving, minus the worker: queue and Redis."""
        return [r.timings.total_ms - r.timings.worker_ms for r in self.replies]


def frame_request(frames: list[bytes], i: int) -> pb.StreamTryOnRequest:
    return pb.StreamTryOnRequest(
        frame=pb.VideoFrame(
            image=types_pb2.Image(data=frames[i % len(frames)]),
            sequence=i,
            timestamp_us=round(i * 1e6 / CAMERA_FPS),
        )
    )


async def run_stream(
    stub: pb_grpc.TryOnServiceStub,
    frames: list[bytes],
    look: types_pb2.Look,
    duration_s: float,
    paced: bool,
) -> StreamRun:
    """One stream for `duration_s`: a frame every 1/CAMERA_FPS s (paced), or the next one as
    soon as the previous reply arrives (unpaced: one in flight)."""
    run = StreamRun()
    call = stub.StreamTryOn(metadata=AUTH, timeout=duration_s + 60)
    await call.write(pb.StreamTryOnRequest(config=pb.StreamConfig(look=look, max_faces=MAX_FACES)))
    sent_at: dict[int, float] = {}
    last_reply = 0.0

    def received(reply: pb.StreamTryOnResponse) -> None:
        nonlocal last_reply
        last_reply = time.perf_counter()
        run.dropped += reply.dropped_before
        if reply.HasField("error"):
            run.errors.append(reply.error.message)
        else:
            run.replies.append(reply)
            run.latencies.append(last_reply - sent_at[reply.sequence])

    begin = time.perf_counter()
    if paced:

        async def writer() -> None:
            period = 1 / CAMERA_FPS
            while (target := begin + run.sent * period) < begin + duration_s:
                await asyncio.sleep(max(target - time.perf_counter(), 0))
                sent_at[run.sent] = time.perf_counter()
                await call.write(frame_request(frames, run.sent))
                run.sent += 1
            await call.done_writing()

        async def reader() -> None:
            while (reply := await call.read()) is not grpc.aio.EOF:
                received(reply)

        await asyncio.gather(writer(), reader())
    else:
        while time.perf_counter() - begin < duration_s:
            sent_at[run.sent] = time.perf_counter()
            await call.write(frame_request(frames, run.sent))
            run.sent += 1
            reply = await call.read()
            if reply is grpc.aio.EOF:
                break
            received(reply)
        await call.done_writing()
        while (reply := await call.read()) is not grpc.aio.EOF:
            received(reply)
    run.wall_s = last_reply - begin
    return run


async def bench(
    addr: str,
    frames: dict[str, list[bytes]],
    product_ids: list[str],
    bare: dict[str, Bare],
) -> None:
    look = types_pb2.Look(applications=[types_pb2.Application(product_id=p) for p in product_ids])
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = pb_grpc.TryOnServiceStub(channel)
        # Warm-up: both pool children see both sizes and resolve the look once.
        for size in SIZES:
            warm = await asyncio.gather(
                *(run_stream(stub, frames[size], look, 1.5, paced=False) for _ in range(2))
            )
            if warm[0].errors or not warm[0].replies or not warm[0].replies[-1].faces:
                raise RuntimeError(f"warm-up stream at {size} failed: {warm[0].errors[:1]}")
        rows: list[tuple[str, str, StreamRun]] = []
        for size in SIZES:
            for paced in (True, False):
                name = f"{size} {'30 fps paced' if paced else 'unpaced (max)'}"
                rows.append((name, size, await run_stream(stub, frames[size], look,
                                                          DURATION_S, paced)))  # fmt: skip
        many = await asyncio.gather(
            *(
                run_stream(stub, frames["640x480"], look, DURATION_S, paced=True)
                for _ in range(CONCURRENT_STREAMS)
            )
        )
        noop = await run_stream(stub, [noop_frame()], types_pb2.Look(), NOOP_DURATION_S, False)

    print(
        f"\nStreamTryOn end to end (gRPC stream -> gateway -> Redis `stream` list -> "
        f"render-stream worker, 2 processes; {len(frames['640x480'])} frames of d0.mp4 "
        f"ping-pong, JPEG q{QUALITY} in and out, look {' + '.join(LOOK)}, max_faces "
        f"{MAX_FACES}; the grpc.aio clients run in this process on the same 2 cores as the "
        "stack)"
    )
    print(
        f"  goals: 640x480 {GOAL_FPS['640x480']:.0f} fps with p99 <= "
        f"{GOAL_P99_MS['640x480']:.0f} ms; 1280x720 >= {GOAL_FPS['1280x720']:.0f} fps; "
        f"{CONCURRENT_STREAMS} x 640x480 >= {GOAL_FPS_EACH:.0f} fps each"
    )
    print("  bare in-process references (one calling thread, same frames):")
    for size, b in bare.items():
        stages = ", ".join(f"{k} {v:.1f}" for k, v in b.stages_ms.items() if k != "worker")
        p50, p99 = statistics.median(b.per_frame_ms), np.percentile(b.per_frame_ms, 99)
        fps = 1000 / statistics.fmean(b.per_frame_ms)
        print(
            f"    {size:8s} TryOnEngine.process video mode p50 {p50:5.1f} / p99 {p99:5.1f} ms "
            f"({fps:5.1f} fps one thread; detector on {b.detected}/{len(b.per_frame_ms)} "
            f"frames); JPEG decode+encode alone {b.codec_ms:4.1f} ms"
        )
        print(f"             mean stages ms: {stages}")
    print(
        f"  {'stream':28s} {'sent':>5s} {'out':>5s} {'drop':>5s} {'err':>4s} {'fps':>6s} "
        f"{'fps goal':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'p99 goal':>8s} {'p50-bare':>8s}"
    )

    def row(name: str, size: str, run: StreamRun, fps_goal: float | None, paced: bool) -> None:
        p50, p99 = run.p(50), run.p(99)
        p99_goal = GOAL_P99_MS.get(size) if paced else None
        fps_text = f"{run.fps / fps_goal:7.2f}x" if fps_goal else f"{'':8s}"
        p99_text = f"{p99 / p99_goal:7.2f}x" if p99_goal else f"{'':8s}"
        over = p50 - statistics.median(bare[size].per_frame_ms)
        print(
            f"  {name:28s} {run.sent:5d} {len(run.replies):5d} {run.dropped:5d} "
            f"{len(run.errors):4d} {run.fps:6.1f} {fps_text} {p50:7.1f} {p99:7.1f} "
            f"{p99_text} {over:+7.1f}"
        )

    for name, size, run in rows:
        paced = "unpaced" not in name
        row(name, size, run, GOAL_FPS[size] if paced else None, paced)
    for i, run in enumerate(many):
        name = f"{CONCURRENT_STREAMS} x 640x480 30 fps: #{i + 1}"
        row(name, "640x480", run, GOAL_FPS_EACH, paced=False)
    every = [lat for run in many for lat in run.latencies]
    print(
        f"  {CONCURRENT_STREAMS} streams together: {sum(r.fps for r in many):.1f} fps out, "
        f"min {min(r.fps for r in many):.1f} fps per stream (goal >= {GOAL_FPS_EACH:.0f}), "
        f"p50 {pct(every, 50):.1f} / p99 {pct(every, 99):.1f} ms"
    )
    errors = [e for _, _, r in rows for e in r.errors] + [e for r in many for e in r.errors]
    if errors:
        print(f"  frame errors: {len(errors)}, first: {errors[0]}")

    print("  server's mean per-frame timings, ms (worker stages; total = gateway receipt -> reply)")
    print(f"  {'stream':28s} " + " ".join(f"{s:>9s}" for s in STAGES) + f" {'total-wkr':>9s}")
    merged = StreamRun(replies=[r for run in many for r in run.replies])
    for name, run in [(n, r) for n, _, r in rows] + [(f"{CONCURRENT_STREAMS} x 640x480 30 fps",
                                                       merged)]:  # fmt: skip
        means = run.stage_means()
        print(
            f"  {name:28s} "
            + " ".join(f"{means[s]:9.2f}" for s in STAGES)
            + f" {means['total'] - means['worker']:9.2f}"
        )

    noop_transport = [
        lat * 1000 - r.timings.worker_ms
        for lat, r in zip(noop.latencies, noop.replies, strict=True)
    ]
    noop_gateway = noop.transport_ms()
    paced_640 = rows[0][2].transport_ms()
    print(
        "  transport overhead per frame (frame, task and result through Redis; the `stream` list "
        "popped by any worker process):"
    )
    print(
        f"    no-op frame (64x64 grey, no face, empty look), unpaced, n={len(noop.replies)}: "
        f"client round trip p50 {noop.p(50):.1f} / p99 {noop.p(99):.1f} ms, worker "
        f"{statistics.median(r.timings.worker_ms for r in noop.replies):.2f} ms -> transport "
        f"p50 {np.percentile(noop_transport, 50):.1f} / "
        f"p99 {np.percentile(noop_transport, 99):.1f} ms"
        f" (of which gateway -> Redis -> worker -> gateway p50 "
        f"{np.percentile(noop_gateway, 50):.1f} ms)"
    )
    print(
        f"    640x480 paced stream, gateway total_ms - worker_ms: p50 "
        f"{np.percentile(paced_640, 50):.1f} / p99 {np.percentile(paced_640, 99):.1f} ms"
    )


def main() -> None:
    frames = {size: clip_frames(wh) for size, wh in SIZES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'catalog.db'}"
        store = CatalogStore(database_url)
        try:
            seed(store, shared_data_dir())
            product_ids = [_first_product(store, c) for c in LOOK]
            look = store.resolve_look(TENANT, [AppliedProduct(product_id=p) for p in product_ids])
        finally:
            store.dispose()
        engine = TryOnEngine()
        bare = {size: bare_engine(engine, frames[size], look) for size in SIZES}
        del engine
        env = {"DATABASE_URL": database_url}
        with private_stack(("render-stream",), env, timeout_s=180) as stack:
            asyncio.run(bench(stack.grpc_addr, frames, product_ids, bare))


def _first_product(store: CatalogStore, category: str) -> str:
    products, _ = store.list_products(TENANT, category=category, page_size=1)
    if not products:
        raise RuntimeError(f"the seeded catalog has no {category} product")
    return products[0].product_id


if __name__ == "__main__":
    main()
