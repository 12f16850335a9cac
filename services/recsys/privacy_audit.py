"""The audit trail of data-subject deletions: who asked (the tenant), when, and how much was
deleted; never whom it was about (no user id, no face id, not even hashed)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, select

from services.common.database import create_tables

metadata = MetaData()
deletions = Table(
    "privacy_deletions",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("deleted_events", Integer, nullable=False),
    Column("deleted_faces", Integer, nullable=False),
)


class DeletionAudit:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._ready = False
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        if not self._ready:
            with self._lock:
                create_tables(metadata, self._engine)
                self._ready = True

    def record(self, request_id: str, tenant: str, events: int, faces: int) -> None:
        self._ensure()
        with self._engine.begin() as conn:
            exists = conn.execute(
                select(deletions.c.request_id).where(deletions.c.request_id == request_id)
            ).first()
            if exists is None:  # a redelivered task is audited once
                conn.execute(deletions.insert().values(
                    request_id=request_id, tenant=tenant, at_ms=int(time.time() * 1000),
                    deleted_events=events, deleted_faces=faces,
                ))  # fmt: skip
