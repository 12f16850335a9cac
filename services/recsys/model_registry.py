"""Versioned recommender models, shared by every recsys pod, swapped in atomically.

Models live in the database all pods already share (`DATABASE_URL`), not on a pod's disk:
whichever worker trains, every worker serves the result. Two tables:

    recsys_models         version -> the pickled BehaviourModel (our own training output)
    recsys_model_current  one row naming the version to serve

`publish` inserts the new version and moves the pointer in one transaction, so a training
that fails or dies half way leaves the previous model serving. Workers read the pointer (a
one-row SELECT, at most every POLL_S) and load a new version beside the old before switching
one reference; a version that fails to load is logged and skipped, never half-served.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from services.common.database import create_tables, make_engine
from services.recsys.behaviour_model import BehaviourModel

__all__ = ["ModelRegistry", "EMPTY_VERSION"]

log = logging.getLogger(__name__)
POLL_S = 2.0
KEEP_VERSIONS = 5
EMPTY_VERSION = "none"  # nothing trained yet: recommendations from skin, catalog, no behaviour

metadata = MetaData()
models = Table(
    "recsys_models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", LargeBinary, nullable=False),
)
current = Table(
    "recsys_model_current",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", String(64), nullable=False),
)


class ModelRegistry:
    def __init__(self, database: str | Engine) -> None:
        """A URL, or the engine the worker already holds for this database."""
        self._engine = database if isinstance(database, Engine) else make_engine(database)
        self._model = BehaviourModel(version=EMPTY_VERSION)
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._ready = False

    def dispose(self) -> None:
        self._engine.dispose()

    def _ensure_schema(self) -> None:
        if not self._ready:
            create_tables(metadata, self._engine)
            self._ready = True

    # -- training side -----------------------------------------------------------------------
    def publish(self, model: BehaviourModel) -> None:
        payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        self._ensure_schema()
        with self._engine.begin() as conn:
            conn.execute(models.insert().values(
                version=model.version, created_at=datetime.now(UTC), payload=payload))  # fmt: skip
            moved = conn.execute(update(current).where(current.c.id == 1)
                                 .values(version=model.version)).rowcount  # fmt: skip
            if not moved:
                conn.execute(current.insert().values(id=1, version=model.version))
            stale = select(models.c.version).order_by(models.c.created_at.desc())
            stale = stale.offset(KEEP_VERSIONS)
            conn.execute(delete(models).where(models.c.version.in_(stale.scalar_subquery())))

    # -- serving side ------------------------------------------------------------------------
    def current(self) -> BehaviourModel:
        """The model to serve now (reloads when the pointer names a new version)."""
        now = time.monotonic()
        if now - self._checked >= POLL_S:
            with self._lock:
                if now - self._checked >= POLL_S:
                    self._checked = now
                    self._maybe_swap()
        return self._model

    def _maybe_swap(self) -> None:
        try:
            self._ensure_schema()
            with self._engine.connect() as conn:
                version = conn.execute(select(current.c.version).where(current.c.id == 1)).scalar()
                if version is None or version == self._model.version:
                    return
                payload = conn.execute(
                    select(models.c.payload).where(models.c.version == version)
                ).scalar()
            model = pickle.loads(payload)
        except (SQLAlchemyError, pickle.UnpicklingError, TypeError, AttributeError):
            # Keep serving what we have: a database blip must not empty recommendations.
            log.exception("could not load the current recommender model; still serving %s",
                          self._model.version)  # fmt: skip
            return
        self._model = model  # one reference swap: requests see the old or the new, whole
        log.info("serving recommender model %s", version)
