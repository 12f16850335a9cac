"""In-process ONNX Runtime implementation of `InferenceRuntime`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnxruntime as ort

from services.recon.runtime import MODEL_NAMES

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


class ModelNotFoundError(FileNotFoundError):
    """A model file is missing from the model directory."""


class OnnxRuntime:
    """Loads `<model_dir>/<name>.onnx` for every name in MODEL_NAMES once, runs them on demand.

    `threads` is ONNX Runtime's intra-op thread count per session; 1 suits prefork workers
    (one process per core), more suits a single process serving one request at a time.
    """

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        model_dir = Path(model_dir)
        available = ort.get_available_providers()
        self.providers: list[str] = (
            [CUDA_PROVIDER, CPU_PROVIDER] if CUDA_PROVIDER in available else [CPU_PROVIDER]
        )
        self._sessions: dict[str, ort.InferenceSession] = {}
        self._output_names: dict[str, list[str]] = {}
        for name in MODEL_NAMES:
            path = model_dir / f"{name}.onnx"
            if not path.is_file():
                raise ModelNotFoundError(f"{path} not found: run `make models` to build it")
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = threads
            # The graphs are chains: no parallel branches for inter-op threads to use.
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            # With >1 thread, workers spin between ops: 2 threads take the landmarks model from
            # 5.3 to 3.8 ms with spinning, but 5.7 ms without it (measured here).
            spinning = "1" if threads > 1 else "0"
            options.add_session_config_entry("session.intra_op.allow_spinning", spinning)
            options.log_severity_level = 3
            session = ort.InferenceSession(str(path), options, providers=self.providers)
            self._sessions[name] = session
            self._output_names[name] = [output.name for output in session.get_outputs()]

    def input_names(self, model: str) -> list[str]:
        return [value.name for value in self._session(model).get_inputs()]

    def infer(self, model: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        session = self._session(model)
        names = self._output_names[model]
        return dict(zip(names, session.run(names, dict(inputs)), strict=True))

    def close(self) -> None:
        self._sessions.clear()
        self._output_names.clear()

    def _session(self, model: str) -> ort.InferenceSession:
        try:
            return self._sessions[model]
        except KeyError:
            if not self._output_names and model in MODEL_NAMES:
                raise RuntimeError("OnnxRuntime is closed") from None
            raise KeyError(f"unknown model {model!r}; known: {', '.join(MODEL_NAMES)}") from None
