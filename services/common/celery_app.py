"""The one Celery app every process shares (gateway as producer, workers as consumers).

Reliability settings follow DESIGN.md section 4: late acks + reject on a lost worker so a
killed child's task re-runs elsewhere, prefetch 1 so a slow model call never hoards messages,
and a short visibility timeout / restore interval so a whole crashed worker's messages come
back in seconds rather than the default hour.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

# Queues: one per service plus a low-priority one for batch work, so catalog re-renders
# never starve interactive traffic.
RECON_QUEUE = "recon"
RENDER_QUEUE = "render"
RECSYS_QUEUE = "recsys"
BATCH_QUEUE = "batch"
CELERY_QUEUES = (RECON_QUEUE, RENDER_QUEUE, RECSYS_QUEUE, BATCH_QUEUE)
# Live video frames are not Celery tasks: they wait on a plain Redis list of this name, popped
# by the render-stream worker's processes (services/render/stream_worker.py; README, "Live
# video": Celery cost ~6 ms of CPU and latency per frame). Listed with the Celery queues so
# its depth is measured (and autoscaled on) the same way.
STREAM_QUEUE = "stream"
QUEUES = (*CELERY_QUEUES, STREAM_QUEUE)

# Task names: the gateway sends by name and never imports a service's code.
RECONSTRUCT_TASK = "recon.reconstruct"
TRY_ON_TASK = "render.try_on"
# Not a Celery task: the name stream frames are timed and counted under (task metrics).
STREAM_FRAME_TASK = "stream.frame"
LIST_PRODUCTS_TASK = "render.list_products"
GET_PRODUCT_TASK = "render.get_product"
UPSERT_PRODUCTS_TASK = "render.upsert_products"
RERENDER_CATALOG_TASK = "render.rerender_catalog"
GET_JOB_TASK = "render.get_job"
RERENDER_FACE_TASK = "batch.rerender_face"
RERENDER_CHUNK_TASK = "batch.rerender_chunk"
RECOMMEND_TASK = "recsys.recommend"
ADVISE_TASK = "recsys.advise"
SEARCH_PRODUCTS_TASK = "recsys.search_products"
RECORD_EVENT_TASK = "recsys.record_event"
RECORD_TRY_ONS_TASK = "recsys.record_try_ons"
TRAIN_TASK = "recsys.train"
DELETE_USER_DATA_TASK = "recsys.delete_user_data"

# Longest task we run, with margin; a message unacked for longer is redelivered.
VISIBILITY_TIMEOUT_S = 300


def create_app() -> Celery:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    # No result backend: every reply travels on its own Redis list (services.gateway.dispatch),
    # and with one, each send_task would also SUBSCRIBE to a result channel nobody reads.
    app = Celery("tryon", broker=redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_queues=[Queue(name) for name in CELERY_QUEUES],
        task_default_queue=RECON_QUEUE,
        task_routes={
            "recon.*": {"queue": RECON_QUEUE},
            "render.*": {"queue": RENDER_QUEUE},
            "recsys.*": {"queue": RECSYS_QUEUE},
            "batch.*": {"queue": BATCH_QUEUE},
        },
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "unacked_restore_interval": 2,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        task_time_limit=VISIBILITY_TIMEOUT_S - 30,
        task_soft_time_limit=VISIBILITY_TIMEOUT_S - 60,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
        # Periodic retraining (Celery beat; the recsys worker runs it embedded, -B).
        beat_schedule={
            "retrain-recommender": {
                "task": TRAIN_TASK,
                "schedule": float(os.environ.get("TRYON_RECSYS_TRAIN_INTERVAL_S", "600")),
                "kwargs": {"payload": {"reason": "scheduled"}},
            }
        },
    )
    return app


app = create_app()
