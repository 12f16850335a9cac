"""Prometheus plumbing for Celery prefork workers.

Each pool child records into files under PROMETHEUS_MULTIPROC_DIR; the parent serves them all
on one port. prometheus_client picks multiprocess mode when it is first imported, so the
worker entry module calls `prepare_multiprocess_dir` before anything imports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def prepare_multiprocess_dir(service: str) -> Path:
    """Empties (or creates) the directory: stale files from a previous run would add up."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / f"tryon-prom-{service}"
    if path.exists() and not os.environ.get("_TRYON_PROM_DIR_READY"):
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    # Pool children re-import the module: only the first import (the parent) may wipe.
    os.environ["_TRYON_PROM_DIR_READY"] = "1"
    return path


def serve_worker_metrics(default_port: int) -> None:
    """Connects Celery signals so the parent serves the children's metrics on
    TRYON_METRICS_PORT and a dead child's live gauges are dropped."""
    from celery import signals
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    @signals.worker_init.connect(weak=False)
    def _serve(**_: Any) -> None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        port = int(os.environ.get("TRYON_METRICS_PORT", default_port))
        addr = os.environ.get("TRYON_METRICS_ADDR", "127.0.0.1")
        start_http_server(port, addr=addr, registry=registry)

    @signals.worker_process_shutdown.connect(weak=False)
    def _dead(pid: int | None = None, **_: Any) -> None:
        multiprocess.mark_process_dead(pid or os.getpid())
