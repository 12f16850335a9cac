"""Entry point of the recsys worker: `celery -A services.recsys.worker worker -Q recsys`.

It already joins the stack (queues, metrics, reliability settings); its tasks arrive with the
recommender."""

from services.common.worker_metrics import prepare_multiprocess_dir

prepare_multiprocess_dir("recsys")  # before anything imports prometheus_client

from services.common.celery_app import app  # noqa: E402
from services.common.worker_metrics import serve_worker_metrics  # noqa: E402

METRICS_PORT = 9103

serve_worker_metrics(METRICS_PORT)

__all__ = ["app"]
