"""Entry point of the recon worker: `celery -A services.recon.worker worker -Q recon`."""

from services.common.worker_metrics import prepare_multiprocess_dir

prepare_multiprocess_dir("recon")  # before anything imports prometheus_client

from celery import signals  # noqa: E402

from services.common.celery_app import app  # noqa: E402
from services.common.worker_metrics import serve_worker_metrics  # noqa: E402
from services.recon import tasks  # noqa: E402

METRICS_PORT = 9101

serve_worker_metrics(METRICS_PORT)


@signals.worker_process_init.connect(weak=False)
def _load_models(**_: object) -> None:
    tasks.worker()


__all__ = ["app"]
