"""What a worker process loads once (models, database engines, textures): the one piece of
global state the services allow, built at `worker_process_init` or on first use."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["LOADED_MARK", "PerProcess"]

# Printed once a process has loaded: `make up` and the tests wait for it in the worker's log
# (Celery logs "ready" before its pool children have loaded their models).
LOADED_MARK = "pool process loaded"

T = TypeVar("T")


class PerProcess(Generic[T]):
    """`load` runs once per process, after the fork (engines and sessions must not cross it)."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            self._value = self._load()
            print(f"{LOADED_MARK} (pid {os.getpid()})", file=sys.stderr, flush=True)
        return self._value
