"""What a worker process loads once (models, database engines, textures): the one piece of
global state the services allow, built at `worker_process_init` or on first use."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["LOADED_MARK", "PerProcess", "limit_native_threads"]

# Printed once a process has loaded: `make up` and the tests wait for it in the worker's log
# (Celery logs "ready" before its pool children have loaded their models).
LOADED_MARK = "pool process loaded"

T = TypeVar("T")


def limit_native_threads() -> None:
    """One worker process per core: OpenCV's own thread pool (all cores by default) would only
    add contention between processes, so it gets TRYON_INFERENCE_THREADS (1) like ONNX Runtime
    and torch."""
    import cv2

    cv2.setNumThreads(int(os.environ.get("TRYON_INFERENCE_THREADS", "1")))


class PerProcess(Generic[T]):
    """`load` runs once per process, after the fork (engines and sessions must not cross it)."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            limit_native_threads()
            self._value = self._load()
            print(f"{LOADED_MARK} (pid {os.getpid()})", file=sys.stderr, flush=True)
        return self._value
