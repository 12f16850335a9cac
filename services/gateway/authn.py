"""Who is calling: the one authenticator every RPC (unary and streaming) goes through.

The caller's key comes in metadata `x-api-key`. Keys starting with "pk_" are publishable keys
(PublishableKeyStore: database, cached per gateway); any other key is a tenant's secret key
(ApiKeyStore: configuration). Either way the result is a Principal. A publishable key may only
call PUBLISHABLE_METHODS, at most its `requests_per_minute` times a minute (a fixed window
counted in Redis, so every gateway replica shares the count); secret keys are not limited here.
Keys (plain or digest) never reach a log or an error message; a publishable key's id may.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.errors import TryonError
from services.common.redis_keys import publishable_key_rate_key
from services.gateway.auth import API_KEY_HEADER, ApiKeyStore
from services.gateway.publishable_keys import PUBLISHABLE_PREFIX, PublishableKeyStore
from services.gateway.rpc import RpcError, api_key_from

log = logging.getLogger(__name__)

# What a key that lives in a web page may do: try on, read the catalog, recommend, record
# events, and read its own settings. Everything else needs the tenant's secret key.
PUBLISHABLE_METHODS = frozenset(
    {
        "Reconstruct",
        "TryOn",
        "StreamTryOn",
        "Recommend",
        "RecordEvent",
        "ListProducts",
        "GetProduct",
        "DescribePublishableKey",
        "Advise",
        "SearchProducts",
    }
)
RATE_WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: str
    # Set when the caller used a publishable key: its public id ("pkid_...").
    publishable_key_id: str | None = None
    # The publishable key's limit; 0 for a secret key (not limited by the authenticator).
    requests_per_minute: int = 0

    @property
    def is_publishable(self) -> bool:
        return self.publishable_key_id is not None


def _unauthenticated() -> RpcError:
    return RpcError(
        grpc.StatusCode.UNAUTHENTICATED,
        f"missing, unknown or revoked API key: send a live key in metadata '{API_KEY_HEADER}'",
    )


class Authenticator:
    def __init__(
        self,
        api_keys: ApiKeyStore,
        publishable_keys: PublishableKeyStore,
        redis_client: aioredis.Redis,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_keys = api_keys
        self.publishable_keys = publishable_keys
        self._redis = redis_client
        self._clock = clock

    async def authenticate(self, context: grpc.aio.ServicerContext, method: str) -> Principal:
        """The caller of `method`, or RpcError: UNAUTHENTICATED (missing, unknown or revoked
        key), PERMISSION_DENIED (a publishable key outside its scope), RESOURCE_EXHAUSTED
        (a publishable key over its limit), UNAVAILABLE (the key database or Redis is down:
        fail closed)."""
        presented = api_key_from(context)
        if not presented or not presented.startswith(PUBLISHABLE_PREFIX):
            tenant = self.api_keys.tenant_for(presented)
            if tenant is None:
                raise _unauthenticated()
            return Principal(tenant)
        try:
            record = await self.publishable_keys.lookup_async(presented)
        except TryonError as exc:
            log.warning("publishable key lookup failed (%s): refusing the call", exc.code)
            raise RpcError.from_tryon(exc) from None
        if record is None:
            raise _unauthenticated()
        principal = Principal(record.tenant, record.key_id, record.requests_per_minute)
        if method not in PUBLISHABLE_METHODS:
            raise RpcError(
                grpc.StatusCode.PERMISSION_DENIED,
                "publishable keys can only try on, read the catalog, recommend and record "
                f"events; call {method} with your secret key from your server",
            )
        await self._count(principal)
        return principal

    async def _count(self, principal: Principal) -> None:
        """One more request of this publishable key in the current minute, or
        RESOURCE_EXHAUSTED when that is over its limit."""
        assert principal.publishable_key_id is not None
        now = self._clock()
        window = int(now // RATE_WINDOW_S)
        key = publishable_key_rate_key(principal.publishable_key_id, window)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 2 * RATE_WINDOW_S)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning(
                "rate limiter unavailable for publishable key %s (%s): refusing the call",
                principal.publishable_key_id, type(exc).__name__,
            )  # fmt: skip
            raise RpcError(
                grpc.StatusCode.UNAVAILABLE, "the rate limiter is unavailable; retry shortly"
            ) from None
        if int(count) > principal.requests_per_minute:
            retry_s = max(1, math.ceil((window + 1) * RATE_WINDOW_S - now))
            raise RpcError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"publishable key {principal.publishable_key_id} is over its limit of "
                f"{principal.requests_per_minute} requests per minute; retry in {retry_s} s",
            )
