"""Recsys's Celery tasks: record events, recommend, and (re)train the behaviour model."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from prometheus_client import Counter, Gauge

from services.common.celery_app import (
    RECOMMEND_TASK,
    RECORD_EVENT_TASK,
    RECORD_TRY_ONS_TASK,
    TRAIN_TASK,
    app,
)
from services.common.database import make_engine
from services.common.payloads import (
    RecommendReply,
    RecommendTask,
    RecordEventReply,
    RecordEventTask,
    TrainTask,
    TryOnEventsTask,
)
from services.common.settings import Settings
from services.common.task_runner import run_interactive
from services.common.worker_state import PerProcess
from services.recsys.behaviour_model import train_behaviour
from services.recsys.event_store import EventStore
from services.recsys.item_features import catalog_item_features
from services.recsys.model_registry import ModelRegistry
from services.recsys.recommender import Recommender
from services.recsys.skin_affinity import SkinProfile
from services.render.catalog import CatalogStore, default_database_url

log = logging.getLogger(__name__)

EVENTS = Counter("tryon_events_recorded_total", "Shopper events stored, by type.", ["type"])
TRAININGS = Counter("tryon_recsys_trainings_total", "Recommender trainings, by outcome.",
                    ["outcome"])  # fmt: skip
TRAINED_EVENTS = Gauge("tryon_recsys_model_events", "Events the newest trained model saw.")


@dataclass
class RecsysWorker:
    """What one worker process holds: the event store, catalog reader, served model."""

    settings: Settings
    redis: redis.Redis
    events: EventStore
    catalog: CatalogStore
    models: ModelRegistry
    recommender: Recommender

    @classmethod
    def load(cls) -> RecsysWorker:
        settings = Settings.from_env()
        engine = make_engine(default_database_url())  # one pool for events and models
        events = EventStore(engine)
        catalog = CatalogStore(default_database_url())
        models = ModelRegistry(engine)
        return cls(settings, redis.Redis.from_url(settings.redis_url), events, catalog, models,
                   Recommender(catalog, events, models))  # fmt: skip

    def record_event(self, task: RecordEventTask) -> RecordEventReply:
        # Unknown products are refused (NOT_FOUND from the catalog) before anything is stored.
        self.catalog.get_product(task.tenant, task.event.product_id)
        created = self.events.record(task.tenant, task.event)
        if created:
            EVENTS.labels(task.event.type).inc()
        return RecordEventReply(created=created)

    def recommend(self, task: RecommendTask) -> RecommendReply:
        skin = SkinProfile(**task.skin.model_dump()) if task.skin else SkinProfile()
        recommendations, version = self.recommender.recommend(
            task.tenant, user_id=task.user_id, skin=skin, categories=task.categories, k=task.k
        )
        return RecommendReply(recommendations=recommendations, model_version=version)

    def train(self, reason: str) -> str:
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        begin = time.perf_counter()
        events = self.events.all_events()
        tenants = {tenant for tenant, _ in events}
        features = {t: catalog_item_features(self.catalog, t) for t in tenants}
        model = train_behaviour(version, events, features)
        self.models.publish(model)
        TRAINED_EVENTS.set(model.events_seen)
        log.info("trained recommender %s (%s) on %d events in %.2f s", version, reason,
                 model.events_seen, time.perf_counter() - begin)  # fmt: skip
        return version


_worker = PerProcess(RecsysWorker.load)


def worker() -> RecsysWorker:
    """The process's RecsysWorker, loaded at worker_process_init (or on first use)."""
    return _worker.get()


@app.task(name=RECORD_EVENT_TASK)
def record_event(payload: dict) -> dict:
    w = worker()
    return run_interactive(RECORD_EVENT_TASK, w.redis, payload, RecordEventTask, RecordEventReply,
                           w.record_event, reply_ttl_s=w.settings.image_ttl_seconds)  # fmt: skip


@app.task(name=RECOMMEND_TASK)
def recommend(payload: dict) -> dict:
    w = worker()
    return run_interactive(RECOMMEND_TASK, w.redis, payload, RecommendTask, RecommendReply,
                           w.recommend, reply_ttl_s=w.settings.image_ttl_seconds)  # fmt: skip


@app.task(name=RECORD_TRY_ONS_TASK)
def record_try_ons(payload: dict) -> dict:
    task = TryOnEventsTask.model_validate(payload)
    created = sum(worker().events.record(task.tenant, e) for e in task.events)
    EVENTS.labels("try_on").inc(created)
    return {"created": created}


@app.task(name=TRAIN_TASK)
def train(payload: dict) -> dict:
    task = TrainTask.model_validate(payload)
    try:
        version = worker().train(task.reason)
    except Exception:
        # The previous model keeps serving: publish() only switches after a complete write.
        TRAININGS.labels("failed").inc()
        log.exception("recommender training failed; the previous model keeps serving")
        return {"error_code": "INTERNAL"}
    TRAININGS.labels("ok").inc()
    return {"version": version}
