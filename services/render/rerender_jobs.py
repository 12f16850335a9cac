"""Catalog re-render jobs: state and progress in Redis, work in chunks on the `batch` queue.

A job's id is a hash of the tenant and the normalised request, so submitting the same request
again returns the same job (unless it failed or was cancelled: then it starts afresh)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import redis

from services.common.errors import ErrorCode, TryonError
from services.common.payloads import JobPayload, RerenderTask
from services.common.redis_keys import job_key

JOB_TTL_S = 7 * 24 * 3600
# Shades per batch task: big enough to amortise the per-face set-up, small enough that a
# cancel or a crash loses little and no task nears the visibility timeout.
CHUNK_SIZE = 48
ROOT = Path(__file__).resolve().parents[2]


def output_root() -> Path:
    return Path(os.environ.get("TRYON_RENDER_OUTPUT_DIR", ROOT / "var" / "renders")).resolve()


def reference_faces_dir() -> Path:
    """Built-in reference photos (licensed for this use); tests/data by default."""
    return Path(os.environ.get("TRYON_REFERENCE_FACES_DIR", ROOT / "tests" / "data")).resolve()


def job_id_for(task: RerenderTask) -> str:
    request = {
        "brands": sorted(task.brands),
        "categories": sorted(task.categories),
        "product_ids": sorted(task.product_ids),
        "reference_face_ids": sorted(task.reference_face_ids),
    }
    blob = json.dumps([task.tenant, request], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


class JobStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def get(self, tenant: str, job_id: str) -> JobPayload:
        fields = self._redis.hgetall(job_key(tenant, job_id))
        if not fields:
            raise TryonError(ErrorCode.NOT_FOUND, f"job {job_id!r} not found for your tenant")
        data = {k.decode(): v.decode() for k, v in fields.items()}
        return JobPayload(
            job_id=job_id,
            state=data["state"],  # type: ignore[arg-type]
            total=int(data.get("total", 0)),
            done=int(data.get("done", 0)),
            failed=int(data.get("failed", 0)),
            output_uri=data.get("output_uri", ""),
            error=data.get("error", ""),
        )

    def claim(self, tenant: str, job_id: str) -> bool:
        """True when this caller starts the job (new, or the last run failed/was cancelled)."""
        key = job_key(tenant, job_id)
        if self._redis.hsetnx(key, "state", "queued"):
            self._redis.expire(key, JOB_TTL_S)
            return True
        state = self._redis.hget(key, "state")
        if state in (b"failed", b"cancelled"):
            self._redis.delete(key)
            return self.claim(tenant, job_id)
        return False

    def start(self, tenant: str, job_id: str, total: int, output_uri: str) -> None:
        key = job_key(tenant, job_id)
        self._redis.hset(
            key,
            mapping={
                "state": "running" if total else "succeeded",
                "total": total,
                "done": 0,
                "failed": 0,
                "output_uri": output_uri,
                "started_at": time.time(),
            },
        )
        self._redis.expire(key, JOB_TTL_S)

    def fail(self, tenant: str, job_id: str, error: str) -> None:
        self._redis.hset(job_key(tenant, job_id), mapping={"state": "failed", "error": error})

    def cancel(self, tenant: str, job_id: str) -> JobPayload:
        job = self.get(tenant, job_id)
        if job.state in ("queued", "running"):
            self._redis.hset(job_key(tenant, job_id), "state", "cancelled")
        return self.get(tenant, job_id)

    def is_cancelled(self, tenant: str, job_id: str) -> bool:
        return self._redis.hget(job_key(tenant, job_id), "state") == b"cancelled"

    def progress(self, tenant: str, job_id: str, done: int, failed: int) -> None:
        """Counts a finished chunk; the last one marks the job succeeded."""
        key = job_key(tenant, job_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hincrby(key, "done", done).hincrby(key, "failed", failed).hget(key, "total")
        done_total, failed_total, total = pipe.execute()
        if done_total + failed_total >= int(total or 0):
            # Only a running job completes; a cancelled one stays cancelled.
            self._redis.eval(
                "if redis.call('HGET', KEYS[1], 'state') == 'running' then "
                "redis.call('HSET', KEYS[1], 'state', 'succeeded') end",
                1,
                key,
            )
