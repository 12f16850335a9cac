"""Per-browser budgets (client address x publishable key), counted in Redis so every web
replica shares them: a browser that floods gets 429 with the wait, others are untouched."""

from __future__ import annotations

import hashlib
import time

import redis.asyncio as aioredis

from services.common.redis_keys import browser_rate_key
from services.web.errors import WebError

WINDOW_S = 60


class BrowserRateLimiter:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def hit(self, bucket: str, key_id: str, client: str, limit: int, what: str) -> None:
        now = time.time()
        window = int(now // WINDOW_S)
        digest = hashlib.blake2b(client.encode(), digest_size=8).hexdigest()
        name = browser_rate_key(bucket, key_id, digest, window)
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, WINDOW_S + 1, nx=True)
            count, _ = await pipe.execute()
        except Exception:
            message = "the studio cannot check its limits; retry"
            raise WebError(503, "UNAVAILABLE", message) from None
        if count > limit:
            retry = max(1, int((window + 1) * WINDOW_S - now + 0.999))
            raise WebError(
                429, "RESOURCE_EXHAUSTED",
                f"too many {what} from this browser: the limit is {limit} a minute; "
                f"retry in {retry} s",
            )  # fmt: skip
