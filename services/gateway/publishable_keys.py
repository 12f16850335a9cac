"""Publishable keys ("pk_..."): the only keys that may live in a web page.

A tenant creates them with its secret key (KeyService); each names the web origins allowed to
use it and its own request budget per minute. They live in the platform's one database
(`DATABASE_URL`, table `publishable_keys`) as SHA-256 digests: the plain key is shown once, in
CreatePublishableKey's reply, and never stored or logged (its public id `pkid_...` is).

Every gateway caches lookups (hits and misses) for `cache_ttl_s`, so a revocation takes effect
everywhere within that time and a flood of requests, with good keys or bad, costs the database
at most one query per key per TTL. The store's methods block: the asyncio gateway calls
`lookup_async` (cache first, the database on a worker thread) and runs the others with
`asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    update,
)
from sqlalchemy.exc import InterfaceError, OperationalError

from services.common.database import create_tables, default_database_url, make_engine
from services.common.errors import ErrorCode, TryonError

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "PUBLISHABLE_PREFIX",
    "PublishableKeyRecord",
    "PublishableKeyStore",
    "is_key_id",
    "normalise_origins",
]

PUBLISHABLE_PREFIX = "pk_"
KEY_ID_PREFIX = "pkid_"
DEFAULT_REQUESTS_PER_MINUTE = 600
MAX_REQUESTS_PER_MINUTE = 100_000
MAX_ORIGINS = 20
MAX_LABEL_CHARS = 200
_MAX_CACHED = 10_000
# "pk_" + token_urlsafe(24) is 35 characters; anything not shaped like a key never reaches
# the database.
_KEY_RE = re.compile(r"^pk_[A-Za-z0-9_-]{16,125}$")
_KEY_ID_RE = re.compile(r"^pkid_[0-9a-f]{24}$")
_HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ORIGIN_FORM = (
    "use scheme://host[:port] with scheme http or https and no path, query or fragment, "
    "e.g. 'https://shop.example.com'"
)

metadata = MetaData()
publishable_keys = Table(
    "publishable_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("key_sha256", String(64), nullable=False),  # hex digest of the plain key
    Column("allowed_origins", Text, nullable=False),  # JSON list of origins
    Column("requests_per_minute", Integer, nullable=False),
    Column("label", String(MAX_LABEL_CHARS), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ux_publishable_keys_sha256", "key_sha256", unique=True),
    Index("ix_publishable_keys_tenant", "tenant", "created_at"),
)


@dataclass(frozen=True, slots=True)
class PublishableKeyRecord:
    """A key's settings; never its plain value nor its digest."""

    key_id: str
    tenant: str
    allowed_origins: tuple[str, ...]
    requests_per_minute: int
    label: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _invalid(message: str) -> TryonError:
    return TryonError(ErrorCode.INVALID_ARGUMENT, message)


def is_key_id(value: str) -> bool:
    return bool(_KEY_ID_RE.fullmatch(value))


def _digest(plain_key: str) -> str:
    return hashlib.sha256(plain_key.encode()).hexdigest()


def _normalise_host(host: str) -> str | None:
    """A DNS name, IPv4 address or bracketed IPv6 address (lower-case), or None."""
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1]
        return host if inner and re.fullmatch(r"[0-9a-f:.]+", inner) and ":" in inner else None
    if len(host) > 253:
        return None
    labels = host.split(".")
    if all(_HOST_LABEL_RE.fullmatch(label) for label in labels):
        return host
    return None


def normalise_origin(origin: str, field: str = "allowed_origins[0]") -> str:
    """'HTTPS://Shop.Example.com:443' -> 'https://shop.example.com' (the form a browser sends
    in its Origin header); anything else that is not scheme://host[:port] is refused."""
    text = origin.strip().lower()
    bad = _invalid(f"{field} is {origin!r}: {_ORIGIN_FORM}")
    if not text or len(text) > 300 or any(c.isspace() or ord(c) < 32 for c in text):
        raise bad
    parts = urlsplit(text)
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise bad
    if parts.path or parts.query or parts.fragment or "?" in text or "#" in text:
        raise bad
    if "@" in parts.netloc or "*" in parts.netloc:  # no credentials, no wildcards
        raise bad
    try:
        port = parts.port
    except ValueError:
        raise bad from None
    raw_host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if parts.netloc.endswith(":"):  # "https://host:" names no port
        raise bad
    host = _normalise_host(raw_host)
    if host is None or (port is not None and not 1 <= port <= 65535):
        raise bad
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def normalise_origins(origins: Sequence[str]) -> tuple[str, ...]:
    """1..20 origins, each normalised (see normalise_origin), duplicates dropped."""
    if not origins:
        raise _invalid(
            f"allowed_origins is empty: name the web origins that may use the key ({_ORIGIN_FORM})"
        )
    if len(origins) > MAX_ORIGINS:
        raise _invalid(f"{len(origins)} allowed_origins; at most {MAX_ORIGINS} per key")
    seen: dict[str, None] = {}
    for i, origin in enumerate(origins):
        seen[normalise_origin(origin, f"allowed_origins[{i}]")] = None
    return tuple(seen)


def check_requests_per_minute(value: int) -> int:
    if value == 0:
        return DEFAULT_REQUESTS_PER_MINUTE
    if not 1 <= value <= MAX_REQUESTS_PER_MINUTE:
        raise _invalid(
            f"requests_per_minute is {value}; use 1..{MAX_REQUESTS_PER_MINUTE} "
            f"(0 for the default, {DEFAULT_REQUESTS_PER_MINUTE})"
        )
    return value


def check_label(label: str) -> str:
    label = label.strip()
    if len(label) > MAX_LABEL_CHARS:
        raise _invalid(f"label has {len(label)} characters; use at most {MAX_LABEL_CHARS}")
    if any(ord(c) < 32 for c in label):
        raise _invalid("label contains control characters: use plain text")
    return label


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive: they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


_COLUMNS = (
    publishable_keys.c.key_id,
    publishable_keys.c.tenant,
    publishable_keys.c.allowed_origins,
    publishable_keys.c.requests_per_minute,
    publishable_keys.c.label,
    publishable_keys.c.created_at,
    publishable_keys.c.revoked_at,
)


def _record(row: tuple) -> PublishableKeyRecord:  # type: ignore[type-arg]
    key_id, tenant, origins, rpm, label, created_at, revoked_at = row
    created = _utc(created_at)
    assert created is not None
    return PublishableKeyRecord(
        key_id=key_id, tenant=tenant, allowed_origins=tuple(json.loads(origins)),
        requests_per_minute=rpm, label=label, created_at=created, revoked_at=_utc(revoked_at),
    )  # fmt: skip


class PublishableKeyStore:
    def __init__(
        self,
        database: str | Engine | None = None,
        *,
        cache_ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A URL (default: the platform's database), or an engine this process already holds.
        Nothing touches the database until first use."""
        if isinstance(database, Engine):
            self._engine = database
        else:
            self._engine = make_engine(database or default_database_url())
        self._ready = False
        self._schema_lock = threading.Lock()
        self._ttl_s = cache_ttl_s
        self._clock = clock
        # digest -> (expires at, record or None for "no such active key")
        self._cache: OrderedDict[str, tuple[float, PublishableKeyRecord | None]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def dispose(self) -> None:
        self._engine.dispose()

    def ensure_schema(self) -> None:
        """Creates the table if missing (safe when several gateways start at once)."""
        with self._db():
            pass

    @contextmanager
    def _db(self) -> Iterator[None]:
        try:
            if not self._ready:
                with self._schema_lock:
                    if not self._ready:
                        create_tables(metadata, self._engine)
                        self._ready = True
            yield
        except (OperationalError, InterfaceError) as e:
            raise TryonError(
                ErrorCode.UNAVAILABLE, "the key database is unavailable; retry shortly"
            ) from e

    # --- management (secret key) ----------------------------------------------------------

    def create(
        self, tenant: str, origins: Sequence[str], requests_per_minute: int = 0, label: str = ""
    ) -> tuple[PublishableKeyRecord, str]:
        """A new active key: its record and the plain key (shown to the caller once)."""
        record = PublishableKeyRecord(
            key_id=KEY_ID_PREFIX + secrets.token_hex(12),
            tenant=tenant,
            allowed_origins=normalise_origins(origins),
            requests_per_minute=check_requests_per_minute(requests_per_minute),
            label=check_label(label),
            created_at=datetime.now(UTC).replace(microsecond=0),
        )
        plain = PUBLISHABLE_PREFIX + secrets.token_urlsafe(24)
        with self._db(), self._engine.begin() as conn:
            conn.execute(
                publishable_keys.insert().values(
                    key_id=record.key_id, tenant=tenant, key_sha256=_digest(plain),
                    allowed_origins=json.dumps(list(record.allowed_origins)),
                    requests_per_minute=record.requests_per_minute, label=record.label,
                    created_at=record.created_at, revoked_at=None,
                )
            )  # fmt: skip
        return record, plain

    def list(self, tenant: str) -> list[PublishableKeyRecord]:
        """The tenant's keys, active and revoked, oldest first."""
        query = (
            select(*_COLUMNS)
            .where(publishable_keys.c.tenant == tenant)
            .order_by(publishable_keys.c.created_at, publishable_keys.c.key_id)
        )
        with self._db(), self._engine.connect() as conn:
            return [_record(tuple(r)) for r in conn.execute(query)]

    def get(self, tenant: str, key_id: str) -> PublishableKeyRecord | None:
        query = select(*_COLUMNS).where(
            publishable_keys.c.tenant == tenant, publishable_keys.c.key_id == key_id
        )
        with self._db(), self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _record(tuple(row)) if row is not None else None

    def revoke(self, tenant: str, key_id: str) -> PublishableKeyRecord | None:
        """The revoked key (revoking twice keeps the first time), or None when the tenant has
        no such key. This gateway forgets it at once; others within the cache TTL."""
        now = datetime.now(UTC).replace(microsecond=0)
        with self._db(), self._engine.begin() as conn:
            conn.execute(
                update(publishable_keys)
                .where(
                    publishable_keys.c.tenant == tenant,
                    publishable_keys.c.key_id == key_id,
                    publishable_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
        with self._cache_lock:
            for digest in [d for d, (_, r) in self._cache.items() if r and r.key_id == key_id]:
                del self._cache[digest]
        return self.get(tenant, key_id)

    # --- authentication (publishable key) -------------------------------------------------

    def _cached(self, digest: str) -> tuple[bool, PublishableKeyRecord | None]:
        with self._cache_lock:
            item = self._cache.get(digest)
            if item is None:
                return False, None
            if item[0] <= self._clock():
                del self._cache[digest]
                return False, None
            return True, item[1]

    def _remember(self, digest: str, record: PublishableKeyRecord | None) -> None:
        if self._ttl_s <= 0:
            return
        with self._cache_lock:
            self._cache[digest] = (self._clock() + self._ttl_s, record)
            self._cache.move_to_end(digest)
            while len(self._cache) > _MAX_CACHED:
                self._cache.popitem(last=False)

    def _lookup_db(self, digest: str) -> PublishableKeyRecord | None:
        query = select(*_COLUMNS).where(publishable_keys.c.key_sha256 == digest)
        with self._db(), self._engine.connect() as conn:
            row = conn.execute(query).first()
        record = _record(tuple(row)) if row is not None else None
        return record if record is not None and record.active else None

    def lookup(self, plain_key: str) -> PublishableKeyRecord | None:
        """The active key's record, or None (unknown, revoked or malformed). Blocks on a
        cache miss: from asyncio use lookup_async."""
        if not _KEY_RE.fullmatch(plain_key):
            return None
        digest = _digest(plain_key)
        hit, record = self._cached(digest)
        if hit:
            return record
        record = self._lookup_db(digest)
        self._remember(digest, record)
        return record

    async def lookup_async(self, plain_key: str) -> PublishableKeyRecord | None:
        """lookup() without blocking the event loop: a cache hit answers at once, a miss
        queries the database on a worker thread."""
        if not _KEY_RE.fullmatch(plain_key):
            return None
        hit, record = self._cached(_digest(plain_key))
        return record if hit else await asyncio.to_thread(self.lookup, plain_key)
