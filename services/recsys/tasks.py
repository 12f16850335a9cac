"""Recsys's Celery tasks: record events, recommend, and (re)train the behaviour model."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from prometheus_client import Counter, Gauge

from services.common.celery_app import (
    ADVISE_TASK,
    DELETE_USER_DATA_TASK,
    RECOMMEND_TASK,
    RECON_QUEUE,
    RECONSTRUCT_TASK,
    RECORD_EVENT_TASK,
    RECORD_TRY_ONS_TASK,
    RECSYS_QUEUE,
    RENDER_QUEUE,
    SEARCH_PRODUCTS_TASK,
    TRAIN_TASK,
    TRY_ON_TASK,
    app,
)
from services.common.database import make_engine
from services.common.errors import ErrorCode, TryonError
from services.common.payloads import (
    AdviceSlotsPayload,
    AdviseReply,
    AdviseTask,
    AppliedProduct,
    DeleteUserDataReply,
    DeleteUserDataTask,
    FaceGeometryResult,
    RecommendationPayload,
    RecommendReply,
    RecommendTask,
    ReconstructReply,
    ReconstructTask,
    RecordEventReply,
    RecordEventTask,
    SearchProductsReply,
    SearchProductsTask,
    SearchResultPayload,
    TrainTask,
    TryOnEventsTask,
    TryOnReply,
    TryOnTask,
)
from services.common.redis_keys import face_key, image_key, user_faces_key
from services.common.settings import Settings
from services.common.task_client import call_task
from services.common.task_runner import run_interactive
from services.common.worker_state import PerProcess
from services.recsys.advisor import Advisor, Pick, Slots
from services.recsys.behaviour_model import train_behaviour
from services.recsys.event_store import EventStore
from services.recsys.item_features import catalog_item_features
from services.recsys.model_registry import ModelRegistry
from services.recsys.privacy_audit import DeletionAudit
from services.recsys.recommender import Recommender
from services.recsys.skin_affinity import SkinProfile
from services.render.catalog import CatalogStore, default_database_url

log = logging.getLogger(__name__)
# A selfie whose geometry is not cached yet: recon finds its face (one model run) within this.
RECON_TIMEOUT_S = 10
# The advised look painted on the face by render (one TryOn).
RENDER_TIMEOUT_S = 20
# How strongly the advised look is painted, by the intensity the shopper asked for.
LOOK_INTENSITY = {"natural": 0.6, "medium": 0.8, "bold": 1.0, "": 0.85}
NOT_TRY_ON_ABLE = frozenset({"nail_polish"})

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
    advisor: Advisor
    audit: DeletionAudit

    @classmethod
    def load(cls) -> RecsysWorker:
        settings = Settings.from_env()
        engine = make_engine(default_database_url())  # one pool for events and models
        events = EventStore(engine)
        catalog = CatalogStore(default_database_url())
        models = ModelRegistry(engine)
        return cls(settings, redis.Redis.from_url(settings.redis_url), events, catalog, models,
                   Recommender(catalog, events, models), Advisor(catalog),
                   DeletionAudit(engine))  # fmt: skip

    def record_event(self, task: RecordEventTask) -> RecordEventReply:
        # Unknown products are refused (NOT_FOUND from the catalog) before anything is stored.
        self.catalog.get_product(task.tenant, task.event.product_id)
        created = self.events.record(task.tenant, task.event)
        if created:
            EVENTS.labels(task.event.type).inc()
        return RecordEventReply(created=created)

    def recommend(self, task: RecommendTask) -> RecommendReply:
        if task.face_id:
            skin = self._skin_of_selfie(task.tenant, task.face_id)
        else:
            skin = SkinProfile(**task.skin.model_dump()) if task.skin else SkinProfile()
        recommendations, version = self.recommender.recommend(
            task.tenant, user_id=task.user_id, skin=skin, categories=task.categories, k=task.k
        )
        return RecommendReply(recommendations=recommendations, model_version=version)

    def advise(self, task: AdviseTask) -> AdviseReply:
        face = self._skin_of_selfie(task.tenant, task.face_id) if task.face_id else None
        history = [(turn.role, turn.text) for turn in task.history]
        advice = self.advisor.advise(task.tenant, task.message, history, face, task.k)
        image_key = content_type = ""
        look = [
            AppliedProduct(product_id=p.product.product_id, shade_id=p.shade_id,
                           intensity=LOOK_INTENSITY.get(advice.slots.intensity, 0.85))
            for p in advice.picks if p.product.category not in NOT_TRY_ON_ABLE
        ]  # fmt: skip
        if task.render and task.face_id and look:
            rendered = call_task(
                app, self.redis, TRY_ON_TASK, RENDER_QUEUE, TryOnTask, TryOnReply,
                tenant=task.tenant, timeout_s=RENDER_TIMEOUT_S, face_id=task.face_id,
                look=_paint_order(look, advice.picks),
            )  # fmt: skip
            image_key, content_type = rendered.image_key, rendered.content_type
        return AdviseReply(
            slots=slots_payload(advice.slots),
            products=[recommendation(p) for p in advice.picks],
            reply=advice.reply, image_key=image_key, content_type=content_type,
        )  # fmt: skip

    def search_products(self, task: SearchProductsTask) -> SearchProductsReply:
        slots, picks = self.advisor.search(
            task.tenant, task.text, colour=task.colour, category=task.category,
            max_delta_e=task.max_delta_e, page_size=task.page_size,
        )  # fmt: skip
        return SearchProductsReply(
            results=[SearchResultPayload(product=p.product, shade_id=p.shade_id,
                                         delta_e=p.delta_e_target or 0.0) for p in picks],
            understood=slots_payload(slots),
        )  # fmt: skip

    def delete_user_data(self, task: DeleteUserDataTask) -> DeleteUserDataReply:
        """The shopper's events, their selfies and face data (named, or remembered under the
        user), then a retrain so the served model no longer carries their history."""
        faces = set(task.face_ids)
        remembered = user_faces_key(task.tenant, task.user_id) if task.user_id else None
        if remembered:
            faces |= {f.decode() for f in self.redis.smembers(remembered)}
        pipe = self.redis.pipeline()
        for face_id in sorted(faces):
            pipe.delete(image_key(task.tenant, face_id), face_key(task.tenant, face_id))
        if remembered:
            pipe.delete(remembered)
        results = pipe.execute()
        deleted_faces = sum(1 for n in results[: len(faces)] if n)
        deleted_events = self.events.delete_user(task.tenant, task.user_id) if task.user_id else 0
        self.audit.record(task.request_id, task.tenant, deleted_events, deleted_faces)
        if deleted_events:
            app.send_task(TRAIN_TASK, kwargs={"payload": {"reason": "user data deleted"}},
                          queue=RECSYS_QUEUE)  # fmt: skip
        return DeleteUserDataReply(deleted_events=deleted_events, deleted_faces=deleted_faces)

    def _skin_of_selfie(self, tenant: str, face_id: str) -> SkinProfile:
        """The largest face's measured skin, from recon's geometry cache (filled by Reconstruct
        and TryOn); recon is asked only when the selfie is there but its geometry is not."""
        cached, stored = self.redis.pipeline().get(face_key(tenant, face_id)).exists(
            image_key(tenant, face_id)
        ).execute()  # fmt: skip
        if cached is not None:
            geometry = FaceGeometryResult.model_validate_json(cached)
        elif stored:
            geometry = call_task(
                app, self.redis, RECONSTRUCT_TASK, RECON_QUEUE, ReconstructTask,
                ReconstructReply, tenant=tenant, timeout_s=RECON_TIMEOUT_S, face_id=face_id,
                max_faces=1,
            ).geometry  # fmt: skip
            assert geometry is not None
        else:
            raise TryonError(
                ErrorCode.NOT_FOUND,
                "the selfie expired or was never stored for this tenant: send it again "
                "(Reconstruct), or recommend by user_id or skin",
            )
        if not geometry.faces or geometry.faces[0].skin_tone is None:
            raise TryonError(
                ErrorCode.FAILED_PRECONDITION,
                "no face in that selfie: recommend by user_id or skin instead",
            )
        tone = geometry.faces[0].skin_tone
        return SkinProfile(lab=tone.lab, monk_bucket=tone.monk_bucket, undertone=tone.undertone)

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


# Paint order of a look: base first, then cheeks, eyes, brows, lips (as the demo and studio do).
_PAINT_ORDER = ("foundation", "concealer", "bronzer", "contour", "highlighter", "blush",
                "eyeshadow", "eyeliner", "mascara", "brow", "lip_liner", "lipstick")  # fmt: skip


def _paint_order(look: list[AppliedProduct], picks: list[Pick]) -> list[AppliedProduct]:
    category = {p.product.product_id: p.product.category for p in picks}
    rank = {name: i for i, name in enumerate(_PAINT_ORDER)}
    # One product per category on the face: the best of each.
    seen: set[str] = set()
    firsts = []
    for applied in look:
        name = category[applied.product_id]
        if name not in seen:
            seen.add(name)
            firsts.append(applied)
    return sorted(firsts, key=lambda a: rank.get(category[a.product_id], len(rank)))


def slots_payload(slots: Slots) -> AdviceSlotsPayload:
    return AdviceSlotsPayload(
        language=slots.language if slots.language in ("en", "zh") else "en",
        categories=list(slots.categories), colour_hex=slots.colour_hex,
        colour_name=slots.colour_name, colour_family=slots.colour_family, finish=slots.finish,
        excluded_finishes=list(slots.excluded_finishes), occasion=slots.occasion,
        intensity=slots.intensity, max_price_minor=slots.max_price_minor,
        brands=list(slots.brands), excluded_brands=list(slots.excluded_brands),
        adjustments=list(slots.adjustments), out_of_scope=slots.out_of_scope,
    )  # fmt: skip


def recommendation(p: Pick) -> RecommendationPayload:
    return RecommendationPayload(product=p.product, shade_id=p.shade_id, score=p.score,
                                 reason=p.reason, delta_e=p.delta_e_skin)  # fmt: skip


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


@app.task(name=ADVISE_TASK)
def advise(payload: dict) -> dict:
    w = worker()
    return run_interactive(ADVISE_TASK, w.redis, payload, AdviseTask, AdviseReply, w.advise,
                           reply_ttl_s=w.settings.image_ttl_seconds)  # fmt: skip


@app.task(name=SEARCH_PRODUCTS_TASK)
def search_products(payload: dict) -> dict:
    w = worker()
    return run_interactive(SEARCH_PRODUCTS_TASK, w.redis, payload, SearchProductsTask,
                           SearchProductsReply, w.search_products,
                           reply_ttl_s=w.settings.image_ttl_seconds)  # fmt: skip


@app.task(name=DELETE_USER_DATA_TASK)
def delete_user_data(payload: dict) -> dict:
    w = worker()
    return run_interactive(DELETE_USER_DATA_TASK, w.redis, payload, DeleteUserDataTask,
                           DeleteUserDataReply, w.delete_user_data,
                           reply_ttl_s=w.settings.image_ttl_seconds)  # fmt: skip
