"""One inference interface, two implementations.

`OnnxRuntime` runs the models in-process (the default); `TritonRuntime` sends them to an NVIDIA
Triton server (used when `TRITON_URL` is set). Both take and return tensors by the names the
ONNX models declare, so the recon pipeline cannot tell them apart.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from face_topology import default_model_dir  # noqa: F401 (re-export)

# Model names: the ONNX file stem under models/ and the model name in the Triton repository.
FACE_DETECTOR = "face_detector"
FACE_LANDMARKS_DETECTOR = "face_landmarks_detector"
MODEL_NAMES = (FACE_DETECTOR, FACE_LANDMARKS_DETECTOR)


class InferenceRuntime(Protocol):
    """Runs a named model on a batch of inputs."""

    def infer(self, model: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Inputs and outputs keyed by tensor name; the first dimension is the batch."""
        ...

    def close(self) -> None: ...


def create_runtime() -> InferenceRuntime:
    """Triton when `TRITON_URL` is set, else in-process ONNX Runtime."""
    triton_url = os.environ.get("TRITON_URL", "").strip()
    if triton_url:
        from services.recon.runtime.triton_runtime import TritonRuntime

        return TritonRuntime(triton_url)
    from services.recon.runtime.onnx_runtime import OnnxRuntime

    threads = int(os.environ.get("TRYON_INFERENCE_THREADS", "1"))
    return OnnxRuntime(default_model_dir(), threads=threads)
