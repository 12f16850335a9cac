"""What a worker process loads once (models, database engines, textures): the one piece of
global state the services allow, built at `worker_process_init` or on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["PerProcess"]

T = TypeVar("T")


class PerProcess(Generic[T]):
    """`load` runs once per process, after the fork (engines and sessions must not cross it)."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            self._value = self._load()
        return self._value
