"""Render's Celery tasks: try-on, the catalog it owns, and catalog re-render jobs.

Interactive tasks (queue `render`) answer on the caller's reply key; batch chunks (queue
`batch`, a separate low-priority worker) write files and count progress."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import redis
from prometheus_client import Counter

from services.common.celery_app import (
    GET_JOB_TASK,
    GET_PRODUCT_TASK,
    LIST_PRODUCTS_TASK,
    RECON_QUEUE,
    RECONSTRUCT_TASK,
    RERENDER_CATALOG_TASK,
    RERENDER_CHUNK_TASK,
    TRY_ON_TASK,
    UPSERT_PRODUCTS_TASK,
    app,
)
from services.common.errors import ErrorCode, TryonError
from services.common.face_cache import cache_geometry, load_face
from services.common.image_codec import decode_image, encode_image
from services.common.payloads import (
    AppliedProduct,
    CatalogReply,
    FaceGeometryResult,
    GetProductTask,
    JobReply,
    JobTask,
    ListProductsTask,
    ReconstructReply,
    ReconstructTask,
    RerenderChunkTask,
    RerenderTask,
    StreamFrameReply,
    StreamFrameTask,
    TryOnReply,
    TryOnTask,
    UpsertProductsTask,
)
from services.common.redis_keys import (
    face_id_for,
    image_key,
    render_output_key,
    stream_state_key,
)
from services.common.settings import Settings
from services.common.task_client import call_task
from services.common.task_runner import run_interactive
from services.common.worker_state import PerProcess
from services.recon import face_result
from services.render.catalog import CatalogStore, default_database_url
from services.render.engine import Frame, StreamState, TryOnEngine
from services.render.look import NOT_TRY_ON_ABLE, require_try_on_able
from services.render.rerender_jobs import (
    CHUNK_SIZE,
    JobStore,
    job_id_for,
    output_root,
    reference_faces_dir,
)

log = logging.getLogger(__name__)

# The encoded result waits this long for the gateway, which picks it up at once.
OUTPUT_TTL_S = 60
# A stream's tracking state outlives an idle stream by no more than this (the gateway deletes
# it when the stream ends; this bounds what a crashed gateway leaves behind).
STREAM_STATE_TTL_S = 120
REFERENCE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

RENDERS = Counter("tryon_renders_total", "Faces rendered, by path.", ["path"])
STREAM_FACES = Counter(
    "tryon_stream_faces_total",
    "Faces found in stream frames, by how: tracked from the previous frame or detected.",
    ["mode"],
)


@dataclass
class RenderWorker:
    """What one worker process holds: renderer (UV textures built once), catalog, Redis."""

    settings: Settings
    redis: redis.Redis
    catalog: CatalogStore
    engine: TryOnEngine
    jobs: JobStore

    @classmethod
    def load(cls) -> RenderWorker:
        settings = Settings.from_env()
        client = redis.Redis.from_url(settings.redis_url)
        return cls(
            settings=settings,
            redis=client,
            catalog=CatalogStore(default_database_url()),
            engine=TryOnEngine(max_image_pixels=settings.max_image_pixels),
            jobs=JobStore(client),
        )

    # -- try-on --------------------------------------------------------------------------
    def try_on(self, task: TryOnTask) -> TryOnReply:
        look = self.catalog.resolve_look(task.tenant, task.look)
        stored = load_face(self.redis, task.tenant, task.face_id)
        if stored.image is None:
            raise TryonError(
                ErrorCode.NOT_FOUND,
                "the selfie expired or was never stored for this tenant: send the image again",
            )
        geometry = stored.geometry
        result = self.engine.process(
            Frame(data=stored.image), look, geometry=geometry.faces if geometry else None,
            max_faces=self.settings.max_faces, face_index=task.face_index,
            output_format=task.output_format, side_by_side=task.side_by_side,
        )  # fmt: skip
        if geometry is None:  # found here: cached for recon's Reconstruct and later TryOns
            assert result.geometry is not None
            geometry = FaceGeometryResult(
                face_id=task.face_id, image_width=result.width, image_height=result.height,
                faces=result.geometry,
            )  # fmt: skip
            cache_geometry(self.redis, task.tenant, geometry, stored.ttl_s)
        RENDERS.labels("interactive").inc(len(result.faces))
        key = render_output_key(task.tenant, task.request_id)
        self.redis.set(key, result.image, ex=OUTPUT_TTL_S)
        return TryOnReply(image_key=key, content_type=result.content_type, geometry=geometry)

    def stream_frame(self, task: StreamFrameTask) -> StreamFrameReply:
        state_key = stream_state_key(task.tenant, task.stream_id)
        data, saved = self.redis.pipeline().getdel(task.frame_key).get(state_key).execute()
        if data is None:
            raise TryonError(ErrorCode.UNAVAILABLE, "the frame expired before it was rendered")
        look = self.catalog.resolve_look(task.tenant, task.look) if task.look else []
        if task.raw_width:
            pixels = np.frombuffer(data, np.uint8).reshape(task.raw_height, task.raw_width, 3)
            frame = Frame(rgb=pixels)
        else:
            frame = Frame(data=data)
        state = StreamState.from_bytes(saved) if saved else StreamState()
        result = self.engine.process(
            frame, look, state, max_faces=task.max_faces, output_format=task.output_format,
            timestamp_s=task.timestamp_us / 1e6,
        )  # fmt: skip
        assert result.state is not None
        key = render_output_key(task.tenant, task.request_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(state_key, result.state.to_bytes(), ex=STREAM_STATE_TTL_S)
        pipe.set(key, result.image, ex=OUTPUT_TTL_S)
        pipe.execute()
        if result.faces:
            STREAM_FACES.labels("tracked" if result.tracked else "detected").inc(len(result.faces))
            RENDERS.labels("stream").inc(len(result.faces))
        return StreamFrameReply(
            image_key=key,
            faces=[face_result(face) for face in result.faces],
            tracked=result.tracked,
            timings_ms={k: round(v, 3) for k, v in result.timings_ms.items()},
        )

    # -- catalog -------------------------------------------------------------------------
    def list_products(self, task: ListProductsTask) -> CatalogReply:
        products, token = self.catalog.list_products(
            task.tenant,
            brand=task.brand or None,
            category=task.category,
            colour_family=task.colour_family or None,
            min_price_minor=task.min_price_minor,
            max_price_minor=task.max_price_minor,
            page_size=task.page_size,
            page_token=task.page_token,
            query=task.query or None,
        )
        return CatalogReply(products=products, next_page_token=token)

    def get_product(self, task: GetProductTask) -> CatalogReply:
        product = self.catalog.get_product(
            task.tenant, task.product_id, include_swatch=task.include_swatch
        )
        return CatalogReply(products=[product])

    def upsert_products(self, task: UpsertProductsTask) -> CatalogReply:
        created, updated = self.catalog.upsert_products(task.tenant, task.products)
        return CatalogReply(created=created, updated=updated)

    # -- re-render jobs ------------------------------------------------------------------
    def rerender_catalog(self, task: RerenderTask) -> JobReply:
        job_id = job_id_for(task)
        if not self.jobs.claim(task.tenant, job_id):
            return JobReply(job=self.jobs.get(task.tenant, job_id))
        try:
            self._plan(task, job_id)
        except TryonError as exc:
            self.jobs.fail(task.tenant, job_id, exc.message)
            raise
        except Exception:
            self.jobs.fail(task.tenant, job_id, "internal error while planning the job")
            raise
        return JobReply(job=self.jobs.get(task.tenant, job_id))

    def _select_shades(self, task: RerenderTask) -> list[AppliedProduct]:
        # Named products and categories must be try-on-able; a broad selection skips the rest.
        for category in task.categories:
            require_try_on_able(category, f"the job's category {category!r}")
        products = {}
        for product_id in task.product_ids:
            product = self.catalog.get_product(task.tenant, product_id)
            require_try_on_able(product.category, f"product {product.product_id!r} (product_ids)")
            products[product.product_id] = product
        if not task.product_ids or task.brands or task.categories:
            for brand in task.brands or [None]:
                for category in task.categories or [None]:
                    token = ""
                    while True:
                        page, token = self.catalog.list_products(
                            task.tenant, brand=brand, category=category, page_size=500,
                            page_token=token,
                        )  # fmt: skip
                        products.update(
                            (p.product_id, p) for p in page if p.category not in NOT_TRY_ON_ABLE
                        )
                        if not token:
                            break
        return [
            AppliedProduct(
                product_id=p.product_id, shade_id=s.shade_id, category=p.category, hex=s.hex,
                finish=s.finish, opacity=s.opacity, coverage=s.coverage,
            )
            for p in sorted(products.values(), key=lambda p: p.product_id)
            for s in p.shades
        ]  # fmt: skip

    def _reference_faces(self, task: RerenderTask) -> list[tuple[str, str, str]]:
        """(face_ref, reference_file, face_id) for each reference face."""
        if task.reference_face_ids:
            return [(f"face-{fid[:8]}", "", fid) for fid in task.reference_face_ids]
        folder = reference_faces_dir()
        faces = []
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in REFERENCE_SUFFIXES:
                continue
            # The photo goes through recon like any selfie, under this tenant's keys.
            data = path.read_bytes()
            face_id = face_id_for(task.tenant, data)
            self.redis.set(
                image_key(task.tenant, face_id), data, ex=self.settings.image_ttl_seconds
            )
            faces.append((path.stem, path.name, face_id))
        if not faces:
            raise TryonError(ErrorCode.FAILED_PRECONDITION, f"no reference photos in {folder}")
        return faces

    def _plan(self, task: RerenderTask, job_id: str) -> None:
        shades = self._select_shades(task)
        if not shades:
            raise TryonError(ErrorCode.NOT_FOUND, "no products match the job's filters")
        chunks = []
        for face_ref, reference_file, face_id in self._reference_faces(task):
            reply = call_task(
                app, self.redis, RECONSTRUCT_TASK, RECON_QUEUE, ReconstructTask,
                ReconstructReply, tenant=task.tenant, timeout_s=60, face_id=face_id, max_faces=1,
            )  # fmt: skip
            assert reply.geometry is not None
            if not reply.geometry.faces:
                raise TryonError(ErrorCode.FAILED_PRECONDITION, f"no face in reference {face_ref}")
            for start in range(0, len(shades), CHUNK_SIZE):
                chunks.append(
                    RerenderChunkTask(
                        tenant=task.tenant, job_id=job_id, face_ref=face_ref,
                        reference_file=reference_file, face_id=face_id, geometry=reply.geometry,
                        shades=shades[start : start + CHUNK_SIZE],
                    )
                )  # fmt: skip
        folder = output_root() / task.tenant / job_id
        total = sum(len(c.shades) for c in chunks)
        self.jobs.start(task.tenant, job_id, total, folder.as_uri() + "/")
        for chunk in chunks:
            app.send_task(RERENDER_CHUNK_TASK, kwargs={"payload": chunk.model_dump(mode="json")})

    def get_job(self, task: JobTask) -> JobReply:
        if task.cancel:
            return JobReply(job=self.jobs.cancel(task.tenant, task.job_id))
        return JobReply(job=self.jobs.get(task.tenant, task.job_id))

    def rerender_chunk(self, chunk: RerenderChunkTask) -> tuple[int, int]:
        if self.jobs.is_cancelled(chunk.tenant, chunk.job_id):
            return 0, 0
        if chunk.reference_file:
            data: bytes | None = (reference_faces_dir() / chunk.reference_file).read_bytes()
        else:
            data = self.redis.get(image_key(chunk.tenant, chunk.face_id))
        if data is None:  # a caller's reference selfie expired mid-job
            self.jobs.progress(chunk.tenant, chunk.job_id, 0, len(chunk.shades))
            return 0, len(chunk.shades)
        image = decode_image(data, self.settings.max_image_pixels)
        landmarks = chunk.geometry.faces[0].landmarks()
        folder = output_root() / chunk.tenant / chunk.job_id / chunk.face_ref
        rendered = self.engine.renderer.render_many(image.rgb, landmarks, chunk.shades)
        for shade, out in zip(chunk.shades, rendered, strict=True):
            path = folder / _safe(shade.product_id) / f"{_safe(shade.shade_id)}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode_image(out, "jpeg"))
        RENDERS.labels("batch").inc(len(chunk.shades))
        self.jobs.progress(chunk.tenant, chunk.job_id, len(chunk.shades), 0)
        return len(chunk.shades), 0


def _safe(name: str) -> str:
    """A product or shade id as a file name (ids may hold '/' or spaces)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120] or "_"


_worker = PerProcess(RenderWorker.load)


def worker() -> RenderWorker:
    """The process's RenderWorker, loaded at worker_process_init (or on first use)."""
    return _worker.get()


def _interactive(name: str, payload: dict, task_type, reply_type, handler_name: str) -> dict:  # type: ignore[no-untyped-def]
    w = worker()
    return run_interactive(
        name, w.redis, payload, task_type, reply_type, getattr(w, handler_name),
        reply_ttl_s=w.settings.image_ttl_seconds,
    )  # fmt: skip


@app.task(name=TRY_ON_TASK)
def try_on(payload: dict) -> dict:
    return _interactive(TRY_ON_TASK, payload, TryOnTask, TryOnReply, "try_on")


@app.task(name=LIST_PRODUCTS_TASK)
def list_products(payload: dict) -> dict:
    return _interactive(
        LIST_PRODUCTS_TASK, payload, ListProductsTask, CatalogReply, "list_products"
    )


@app.task(name=GET_PRODUCT_TASK)
def get_product(payload: dict) -> dict:
    return _interactive(GET_PRODUCT_TASK, payload, GetProductTask, CatalogReply, "get_product")


@app.task(name=UPSERT_PRODUCTS_TASK)
def upsert_products(payload: dict) -> dict:
    return _interactive(
        UPSERT_PRODUCTS_TASK, payload, UpsertProductsTask, CatalogReply, "upsert_products"
    )


@app.task(name=RERENDER_CATALOG_TASK)
def rerender_catalog(payload: dict) -> dict:
    return _interactive(RERENDER_CATALOG_TASK, payload, RerenderTask, JobReply, "rerender_catalog")


@app.task(name=GET_JOB_TASK)
def get_job(payload: dict) -> dict:
    return _interactive(GET_JOB_TASK, payload, JobTask, JobReply, "get_job")


@app.task(name=RERENDER_CHUNK_TASK)
def rerender_chunk(payload: dict) -> dict:
    chunk = RerenderChunkTask.model_validate(payload)
    try:
        done, failed = worker().rerender_chunk(chunk)
    except Exception:
        log.exception("re-render chunk of job %s failed", chunk.job_id)
        worker().jobs.progress(chunk.tenant, chunk.job_id, 0, len(chunk.shades))
        return {"error_code": "INTERNAL"}
    return {"done": done, "failed": failed}
