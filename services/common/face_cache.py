"""Recon's face-geometry cache, next to the selfie it came from: one owner for reading a
selfie with its cached geometry and for caching geometry (recon's Reconstruct and render's
TryOn both fill it). The geometry is biometric too: it never outlives its selfie."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from services.common.payloads import FaceGeometryResult
from services.common.redis_keys import face_key, image_key

__all__ = ["StoredFace", "cache_geometry", "load_face"]


@dataclass(frozen=True)
class StoredFace:
    geometry: FaceGeometryResult | None  # None: not reconstructed yet
    image: bytes | None  # None: expired or never stored for this tenant
    ttl_s: int  # the selfie's remaining lifetime (<= 0 when gone)


def load_face(client: redis.Redis, tenant: str, face_id: str) -> StoredFace:
    """The selfie, its cached geometry and its TTL, in one round trip."""
    img_key = image_key(tenant, face_id)
    cached, data, ttl = (
        client.pipeline().get(face_key(tenant, face_id)).get(img_key).ttl(img_key).execute()
    )
    geometry = FaceGeometryResult.model_validate_json(cached) if cached is not None else None
    return StoredFace(geometry, data, int(ttl or 0))


def cache_geometry(
    client: redis.Redis, tenant: str, geometry: FaceGeometryResult, ttl_s: int
) -> None:
    """Caches the geometry for as long as its selfie lives (not at all when it is gone)."""
    if ttl_s > 0:
        client.set(face_key(tenant, geometry.face_id), geometry.model_dump_json(), ex=ttl_s)
