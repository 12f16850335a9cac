"""Shopper events (try-on, add-to-cart, purchase, rating), stored durably before we answer.

Same database as the catalog (`DATABASE_URL`: SQLite by default, PostgreSQL in production),
own table, owned by recsys. Idempotent by (tenant, event_id): a retried RecordEvent after a
lost reply, a redelivered Celery message after a worker crash, both land once.
Build one store per process after the fork (engines must not cross a fork).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    select,
)
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from services.common.database import create_tables, make_engine
from services.common.errors import ErrorCode, TryonError
from services.common.payloads import EventPayload

__all__ = ["EventStore", "StoredEvent", "EVENT_WEIGHTS"]

# How much each event says about what a shopper wants (the implicit-feedback weight used by
# training and by the history a recommendation starts from).
EVENT_WEIGHTS = {"try_on": 1.0, "add_to_cart": 2.0, "purchase": 3.0, "rating": 0.0}

metadata = MetaData()
events = Table(
    "recsys_events",
    metadata,
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("type", String(16), nullable=False),
    Column("product_id", String(128), nullable=False),
    Column("shade_id", String(64), nullable=False, default=""),
    Column("occurred_at_ms", BigInteger, nullable=False),
    Column("rating", SmallInteger, nullable=False, default=0),
    PrimaryKeyConstraint("tenant", "event_id"),
    Index("ix_recsys_events_user", "tenant", "user_id", "occurred_at_ms"),
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    user_id: str
    type: str
    product_id: str
    shade_id: str
    occurred_at_ms: int
    rating: int

    @property
    def weight(self) -> float:
        """Implicit feedback: ratings count by how good they were (4-5 positive, 1-2 not)."""
        if self.type == "rating":
            return max(0.0, (self.rating - 3) * 1.5)
        return EVENT_WEIGHTS[self.type]


class EventStore:
    def __init__(self, database: str | Engine) -> None:
        """A URL, or the engine the worker already holds for this database."""
        self._engine = database if isinstance(database, Engine) else make_engine(database)
        self._ready = False
        self._lock = threading.Lock()

    def dispose(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _db(self) -> Iterator[None]:
        try:
            if not self._ready:
                with self._lock:
                    create_tables(metadata, self._engine)
                    self._ready = True
            yield
        except (OperationalError, InterfaceError) as e:
            raise TryonError(
                ErrorCode.UNAVAILABLE, f"the event database is unavailable ({e.orig}); retry"
            ) from e

    def record(self, tenant: str, event: EventPayload) -> bool:
        """Stores the event; False when this tenant already recorded that event_id (a retry)
        - the first version wins, as an idempotent write must."""
        row = {"tenant": tenant, **event.model_dump()}
        with self._db():
            try:
                with self._engine.begin() as conn:
                    conn.execute(events.insert().values(**row))
            except IntegrityError:
                return False
        return True

    def delete_user(self, tenant: str, user_id: str) -> int:
        """Every event of this tenant's shopper, gone; how many there were."""
        with self._db(), self._engine.begin() as conn:
            result = conn.execute(
                events.delete().where(events.c.tenant == tenant, events.c.user_id == user_id)
            )
        return int(result.rowcount or 0)

    def history(self, tenant: str, user_id: str, limit: int = 200) -> list[StoredEvent]:
        """The user's events, oldest first (the last `limit`)."""
        query = (
            select(*_FIELDS)
            .where(events.c.tenant == tenant, events.c.user_id == user_id)
            .order_by(events.c.occurred_at_ms.desc(), events.c.event_id.desc())
            .limit(limit)
        )
        with self._db(), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [StoredEvent(*r) for r in reversed(rows)]

    def all_events(self, tenant: str | None = None) -> list[tuple[str, StoredEvent]]:
        """(tenant, event) for every stored event, per user in time order: training data."""
        query = select(events.c.tenant, *_FIELDS).order_by(
            events.c.tenant, events.c.user_id, events.c.occurred_at_ms, events.c.event_id
        )
        if tenant is not None:
            query = query.where(events.c.tenant == tenant)
        with self._db(), self._engine.connect() as conn:
            return [(r[0], StoredEvent(*r[1:])) for r in conn.execute(query)]


_FIELDS = (
    events.c.user_id,
    events.c.type,
    events.c.product_id,
    events.c.shade_id,
    events.c.occurred_at_ms,
    events.c.rating,
)
