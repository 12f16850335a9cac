"""Entry point of the render worker:

celery -A services.render.worker worker -Q render    # interactive: try-on, catalog
celery -A services.render.worker worker -Q batch     # catalog re-renders (low priority)
"""

from services.common.worker_metrics import prepare_multiprocess_dir

prepare_multiprocess_dir("render")  # before anything imports prometheus_client

from celery import signals  # noqa: E402

from services.common.celery_app import app  # noqa: E402
from services.common.worker_metrics import serve_worker_metrics  # noqa: E402
from services.render import tasks  # noqa: E402

METRICS_PORT = 9102

serve_worker_metrics(METRICS_PORT)


@signals.worker_process_init.connect(weak=False)
def _load(**_: object) -> None:
    tasks.worker()


__all__ = ["app"]
