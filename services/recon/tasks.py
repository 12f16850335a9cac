"""Recon's Celery tasks. The selfie is read from Redis by key (tenant-scoped), never carried in
the message; results are cached per (tenant, image) under the same face_id."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import redis

from services.common.celery_app import RECONSTRUCT_TASK, app
from services.common.errors import ErrorCode, TryonError
from services.common.face_cache import cache_geometry, load_face
from services.common.image_codec import decode_image
from services.common.payloads import FaceGeometryResult, ReconstructReply, ReconstructTask
from services.common.settings import Settings
from services.common.task_runner import run_interactive
from services.common.worker_state import PerProcess
from services.recon.face_landmarker import FaceLandmarker
from services.recon.metrics import CACHE_LOOKUPS, FACES_FOUND, TimedRuntime
from services.recon.reconstruction import reconstruct_faces
from services.recon.runtime import create_runtime

log = logging.getLogger(__name__)

# JPEGs over twice this long side are decoded at reduced size (DCT scaling, >= this side): the
# detector sees 128 px and the landmark model a 256 px crop, so more only costs decode time.
WORKING_MAX_SIDE = int(os.environ.get("TRYON_RECON_MAX_SIDE", "1280"))


@dataclass
class ReconWorker:
    """What one worker process holds: the models (loaded once) and a Redis connection."""

    settings: Settings
    redis: redis.Redis
    landmarker: FaceLandmarker

    @classmethod
    def load(cls) -> ReconWorker:
        settings = Settings.from_env()
        landmarker = FaceLandmarker(TimedRuntime(create_runtime()))
        landmarker.warm_up()
        return cls(
            settings=settings, redis=redis.Redis.from_url(settings.redis_url), landmarker=landmarker
        )

    def reconstruct(self, task: ReconstructTask) -> ReconstructReply:
        stored = load_face(self.redis, task.tenant, task.face_id)
        if stored.geometry is not None:
            CACHE_LOOKUPS.labels("hit").inc()
            return ReconstructReply(geometry=_trim(stored.geometry, task.max_faces), cache_hit=True)
        CACHE_LOOKUPS.labels("miss").inc()
        if stored.image is None:
            raise TryonError(
                ErrorCode.NOT_FOUND,
                "the image expired or was never stored for this tenant: send it again",
            )
        decoded = decode_image(
            stored.image, self.settings.max_image_pixels, max_side=WORKING_MAX_SIDE
        )
        faces = reconstruct_faces(self.landmarker, decoded, self.settings.max_faces)
        FACES_FOUND.observe(len(faces))
        geometry = FaceGeometryResult(
            face_id=task.face_id,
            image_width=decoded.width,
            image_height=decoded.height,
            faces=faces,
        )
        cache_geometry(self.redis, task.tenant, geometry, stored.ttl_s)
        return ReconstructReply(geometry=_trim(geometry, task.max_faces))


def _trim(geometry: FaceGeometryResult, max_faces: int) -> FaceGeometryResult:
    if len(geometry.faces) <= max_faces:
        return geometry
    return geometry.model_copy(update={"faces": geometry.faces[:max_faces]})


_worker = PerProcess(ReconWorker.load)


def worker() -> ReconWorker:
    """The process's ReconWorker, loaded at worker_process_init (or on first use)."""
    return _worker.get()


@app.task(name=RECONSTRUCT_TASK)
def reconstruct(payload: dict) -> dict:
    w = worker()
    return run_interactive(
        RECONSTRUCT_TASK,
        w.redis,
        payload,
        ReconstructTask,
        ReconstructReply,
        w.reconstruct,
        reply_ttl_s=w.settings.image_ttl_seconds,
    )
