"""Selfies in Redis: tenant-scoped keys, a short TTL, deleted early when a request fails."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from services.common.redis_keys import face_id_for, image_key, user_faces_key


@dataclass(frozen=True)
class StoredSelfie:
    face_id: str
    # False when the same tenant already sent the same image (an earlier request may still
    # use it, so a failure of this one must not delete it).
    created: bool
    expires_in_s: int


class SelfieStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self._redis = client
        self._ttl_s = ttl_s

    async def put(self, tenant: str, data: bytes) -> StoredSelfie:
        face_id = face_id_for(tenant, data)
        key = image_key(tenant, face_id)
        # Sent again: the shopper is still here, so the clock restarts (never beyond the TTL).
        pipe = self._redis.pipeline(transaction=True)
        created, _ = (
            await pipe.set(key, data, ex=self._ttl_s, nx=True).expire(key, self._ttl_s).execute()
        )
        return StoredSelfie(face_id, bool(created), self._ttl_s)

    async def discard(self, tenant: str, face_id: str) -> None:
        await self._redis.delete(image_key(tenant, face_id))

    async def ttl(self, tenant: str, face_id: str) -> int:
        return max(int(await self._redis.ttl(image_key(tenant, face_id))), 0)

    async def remember_user(self, tenant: str, user_id: str, face_id: str) -> None:
        """This shopper's request named this selfie: kept as long as a selfie may live, so
        DeleteUserData(user_id) finds it."""
        key = user_faces_key(tenant, user_id)
        await self._redis.pipeline(transaction=True).sadd(key, face_id).expire(
            key, self._ttl_s
        ).execute()  # fmt: skip
