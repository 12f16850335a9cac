"""Entry point of the render worker: `celery -A services.render.worker worker -Q render`.

It already joins the stack (queues, metrics, reliability settings); its tasks arrive with the
makeup engine."""

from services.common.worker_metrics import prepare_multiprocess_dir

prepare_multiprocess_dir("render")  # before anything imports prometheus_client

from services.common.celery_app import app  # noqa: E402
from services.common.worker_metrics import serve_worker_metrics  # noqa: E402

METRICS_PORT = 9102

serve_worker_metrics(METRICS_PORT)

__all__ = ["app"]
