"""Recsys's tables live in the catalog's database (`DATABASE_URL`): one engine per process."""

from __future__ import annotations

from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool

__all__ = ["create_tables", "make_engine"]


def make_engine(database_url: str) -> Engine:
    """SQLite (file or memory) or PostgreSQL through psycopg 3 (which is what we ship)."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    if url.get_backend_name() == "sqlite":
        # Several worker processes share the file: wait for a writer rather than fail.
        return create_engine(url, connect_args={"timeout": 10})
    return create_engine(url, pool_pre_ping=True)


def create_tables(metadata: MetaData, engine: Engine) -> None:
    """CREATE TABLE IF missing, safe when several worker processes start at once: the loser
    of the race sees "already exists", and a second look finds the tables there."""
    try:
        metadata.create_all(engine)
    except (OperationalError, ProgrammingError, IntegrityError):
        metadata.create_all(engine)
