"""SQLAlchemy engines for the one database the render catalog and recsys share
(`DATABASE_URL`: SQLite by default, PostgreSQL in production). One engine per process, built
after the fork: pooled connections must not cross it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool

__all__ = [
    "DEFAULT_DATABASE_URL",
    "create_tables",
    "default_database_url",
    "make_engine",
    "normalise_url",
]

DEFAULT_DATABASE_URL = "sqlite:///var/catalog.db"


def default_database_url() -> str:
    """The platform's one database: `DATABASE_URL`, else the local SQLite file."""
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def normalise_url(database_url: str | URL) -> URL:
    url = make_url(database_url)
    # A bare postgresql:// would pick psycopg2, which we do not ship (psycopg 3 is).
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(database_url: str | URL) -> Engine:
    url = normalise_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = url.database or ""
    if database in ("", ":memory:"):
        # One shared connection, or every pooled connection would see its own empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        # Readers (workers) never block on the seed or an upsert; writers queue, several
        # worker processes sharing the file wait for each other rather than fail.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    return engine


def create_tables(metadata: MetaData, engine: Engine) -> None:
    """CREATE TABLE IF missing, safe when several worker processes start at once: the loser
    of the race sees "already exists", and a second look finds the tables there."""
    try:
        metadata.create_all(engine)
    except (OperationalError, ProgrammingError, IntegrityError):
        metadata.create_all(engine)
