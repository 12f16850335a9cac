"""Entry point of the recsys worker: `celery -A services.recsys.worker worker -Q recsys -B`
(-B runs the periodic retraining schedule embedded; in Kubernetes a single beat runs it)."""

from services.common.worker_metrics import prepare_multiprocess_dir

prepare_multiprocess_dir("recsys")  # before anything imports prometheus_client

from celery import signals  # noqa: E402

from services.common.celery_app import app  # noqa: E402
from services.common.worker_metrics import serve_worker_metrics  # noqa: E402
from services.recsys import tasks  # noqa: E402

METRICS_PORT = 9103

serve_worker_metrics(METRICS_PORT)


@signals.worker_process_init.connect(weak=False)
def _load(**_: object) -> None:
    tasks.worker()


__all__ = ["app"]
