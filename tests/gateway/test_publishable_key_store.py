"""Publishable keys without a stack: origin validation, the store on SQLite (digests only,
revocation, tenants) and its lookup cache (hits, misses, TTL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.common.errors import ErrorCode, TryonError
from services.gateway.publishable_keys import (
    PublishableKeyStore,
    is_key_id,
    normalise_origin,
    normalise_origins,
    publishable_keys,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("  HTTPS://Shop.Example.COM  ", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),  # the browser's form
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("https://my-shop.co.uk", "https://my-shop.co.uk"),
    ],
)
def test_origins_are_normalised(given: str, expected: str) -> None:
    assert normalise_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "shop.example.com",  # no scheme
        "ftp://shop.example.com",
        "https://shop.example.com/",  # a path, even "/"
        "https://shop.example.com/products",
        "https://shop.example.com?x=1",
        "https://shop.example.com#top",
        "https://user:pw@shop.example.com",
        "https://*.example.com",
        "https://shop.example.com:0",
        "https://shop.example.com:99999",
        "https://shop.example.com:",
        "https://shop..example.com",
        "https://-shop.example.com",
        "https://shop example.com",
        "javascript://alert(1)",
        "null",
    ],
)
def test_bad_origins_are_refused_with_the_right_form(bad: str) -> None:
    with pytest.raises(TryonError) as err:
        normalise_origin(bad, "allowed_origins[3]")
    assert err.value.code == ErrorCode.INVALID_ARGUMENT
    assert "allowed_origins[3]" in err.value.message
    assert "scheme://host[:port]" in err.value.message


def test_origin_lists() -> None:
    given = ["https://a.example", "HTTPS://A.example:443", "http://a.example"]
    assert normalise_origins(given) == ("https://a.example", "http://a.example")
    for origins in ([], [f"https://s{i}.example" for i in range(21)]):
        with pytest.raises(TryonError) as err:
            normalise_origins(origins)
        assert err.value.code == ErrorCode.INVALID_ARGUMENT


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[PublishableKeyStore]:
    s = PublishableKeyStore(f"sqlite:///{tmp_path / 'keys.db'}", cache_ttl_s=5, clock=clock)
    yield s
    s.dispose()


def test_create_stores_only_a_digest(store: PublishableKeyStore) -> None:
    record, plain = store.create("alpha", ["https://shop.example.com"], 0, "  product pages ")
    assert plain.startswith("pk_") and len(plain) == 35
    assert is_key_id(record.key_id) and record.active
    assert record.requests_per_minute == 600 and record.label == "product pages"
    with store._engine.connect() as conn:  # white-box: what is on disk
        rows = [tuple(r) for r in conn.execute(select(publishable_keys))]
    assert len(rows) == 1 and all(plain not in str(value) for value in rows[0])
    assert store.lookup(plain) == record
    assert [r.key_id for r in store.list("alpha")] == [record.key_id] and store.list("beta") == []


@pytest.mark.parametrize(("rpm", "label"), [(-1, ""), (100_001, ""), (5, "x" * 201), (5, "a\nb")])
def test_bad_limits_and_labels(store: PublishableKeyStore, rpm: int, label: str) -> None:
    with pytest.raises(TryonError) as err:
        store.create("alpha", ["https://shop.example.com"], rpm, label)
    assert err.value.code == ErrorCode.INVALID_ARGUMENT


def test_revoke_is_per_tenant_and_idempotent(store: PublishableKeyStore) -> None:
    record, plain = store.create("alpha", ["https://shop.example.com"])
    assert store.revoke("beta", record.key_id) is None  # not beta's key
    assert store.lookup(plain) is not None
    revoked = store.revoke("alpha", record.key_id)
    assert revoked is not None and revoked.revoked_at is not None
    assert store.lookup(plain) is None  # this process forgets it at once
    again = store.revoke("alpha", record.key_id)
    assert again is not None and again.revoked_at == revoked.revoked_at


def test_lookups_are_cached_hits_and_misses(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    here = PublishableKeyStore(url, cache_ttl_s=5, clock=clock)
    other = PublishableKeyStore(url, cache_ttl_s=5, clock=clock)  # another gateway
    record, plain = other.create("alpha", ["https://shop.example.com"])
    unknown = "pk_" + "A" * 32
    queries: list[str] = []
    query = here._lookup_db
    here._lookup_db = lambda digest: queries.append(digest) or query(digest)  # type: ignore[method-assign]
    assert asyncio.run(here.lookup_async(plain)) == record
    for _ in range(3):
        assert asyncio.run(here.lookup_async(unknown)) is None
        assert here.lookup(plain) == record
    assert len(queries) == 2  # one per key: hits and misses are cached
    other.revoke("alpha", record.key_id)
    clock.now += 4  # within the TTL: still served from this gateway's cache
    assert here.lookup(plain) == record
    clock.now += 2  # past it: the database says revoked
    assert here.lookup(plain) is None and len(queries) == 3
    assert here.lookup("pk_short") is None and here.lookup("sk_" + "A" * 32) is None
    here.dispose()
    other.dispose()


class FakeContext:
    def __init__(self, key: str) -> None:
        self._key = key

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("x-api-key", self._key),)


def test_authenticator_fails_closed(store: PublishableKeyStore) -> None:
    """Secret keys skip the limiter; a publishable key is refused, never let through, when
    Redis (its limiter) or the key database is down."""
    import grpc
    import redis.asyncio as aioredis

    from services.gateway.auth import ApiKeyStore
    from services.gateway.authn import Authenticator, Principal
    from services.gateway.rpc import RpcError

    async def run() -> None:
        dead_redis = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
        authn = Authenticator(
            ApiKeyStore.parse(["alpha:alpha-secret-0123456789"]), store, dead_redis
        )
        secret = await authn.authenticate(FakeContext("alpha-secret-0123456789"), "TryOn")
        assert secret == Principal("alpha") and not secret.is_publishable
        _, plain = store.create("alpha", ["https://shop.example.com"], 7)
        with pytest.raises(RpcError) as err:
            await authn.authenticate(FakeContext(plain), "UpsertProducts")
        assert err.value.code == grpc.StatusCode.PERMISSION_DENIED  # scope before the limiter
        with pytest.raises(RpcError) as err:
            await authn.authenticate(FakeContext(plain), "TryOn")
        assert err.value.code == grpc.StatusCode.UNAVAILABLE
        assert plain not in err.value.message

        def database_down(digest: str) -> None:
            raise TryonError(ErrorCode.UNAVAILABLE, "the key database is unavailable; retry")

        store._lookup_db = database_down  # type: ignore[method-assign,assignment]
        with pytest.raises(RpcError) as err:
            await authn.authenticate(FakeContext("pk_" + "B" * 32), "TryOn")
        assert err.value.code == grpc.StatusCode.UNAVAILABLE
        await dead_redis.aclose()

    asyncio.run(run())
