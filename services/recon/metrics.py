"""Recon's own metrics (task latency and failures are common, see services.common.task_runner)."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
from prometheus_client import Counter, Histogram

from services.recon.runtime import InferenceRuntime

INFERENCE_SECONDS = Histogram(
    "tryon_model_inference_seconds",
    "One model call (a batch), by model and runtime.",
    ["model", "runtime"],
    buckets=(0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.25, 0.5, 1),
)
FACES_FOUND = Histogram(
    "tryon_faces_found", "Faces found per reconstructed image.", buckets=(0, 1, 2, 3, 5, 10, 20)
)
CACHE_LOOKUPS = Counter(
    "tryon_recon_cache_lookups_total", "Face-geometry cache lookups by result.", ["result"]
)


class TimedRuntime:
    """Wraps any InferenceRuntime to observe each call's latency."""

    def __init__(self, inner: InferenceRuntime) -> None:
        self._inner = inner
        self._label = type(inner).__name__
        # Seconds per model since the last `take_spent`: a stream reports them per frame.
        self._spent: dict[str, float] = {}

    def infer(self, model: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        begin = time.perf_counter()
        try:
            return self._inner.infer(model, inputs)
        finally:
            took = time.perf_counter() - begin
            INFERENCE_SECONDS.labels(model, self._label).observe(took)
            self._spent[model] = self._spent.get(model, 0.0) + took

    def take_spent(self) -> dict[str, float]:
        """Seconds spent per model since the previous call (and resets the count)."""
        spent, self._spent = self._spent, {}
        return spent

    def close(self) -> None:
        self._inner.close()
