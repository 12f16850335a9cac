"""Selfies in Redis: tenant-scoped keys, a short TTL, deleted early when a request fails."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from services.common.redis_keys import face_id_for, image_key


@dataclass(frozen=True)
class StoredSelfie:
    face_id: str
    # False when the same tenant already sent the same image: it keeps its original expiry.
    created: bool
    expires_in_s: int


class SelfieStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self._redis = client
        self._ttl_s = ttl_s

    async def put(self, tenant: str, data: bytes) -> StoredSelfie:
        face_id = face_id_for(tenant, data)
        key = image_key(tenant, face_id)
        created, ttl = await (
            self._redis.pipeline(transaction=True).set(key, data, ex=self._ttl_s, nx=True).ttl(key)
        ).execute()
        return StoredSelfie(face_id, bool(created), int(ttl))

    async def discard(self, tenant: str, face_id: str) -> None:
        await self._redis.delete(image_key(tenant, face_id))

    async def ttl(self, tenant: str, face_id: str) -> int:
        return max(int(await self._redis.ttl(image_key(tenant, face_id))), 0)
