"""`InferenceRuntime` over an NVIDIA Triton server (gRPC, `tritonclient`).

Thin on purpose: tensors go out and come back by the names the ONNX models declare, so the recon
pipeline runs the same whether the models live in-process (`OnnxRuntime`) or in Triton
(`deploy/triton/`). Batching across callers is Triton's job (dynamic batcher), not ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException, np_to_triton_dtype, triton_to_np_dtype


class TritonUnavailableError(RuntimeError):
    """The server cannot be reached, is not ready, or does not serve the model."""


@dataclass(frozen=True)
class _ModelIO:
    inputs: dict[str, np.dtype]  # name -> numpy dtype the server expects
    outputs: tuple[str, ...]


class TritonRuntime:
    """Runs models on a Triton server at `url` ("host:port" of its gRPC endpoint)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._client = grpcclient.InferenceServerClient(url)
        self._models: dict[str, _ModelIO] = {}
        self._lock = Lock()
        try:
            live = self._client.is_server_live(client_timeout=timeout_s)
            ready = live and self._client.is_server_ready(client_timeout=timeout_s)
        except InferenceServerException as exc:
            self._client.close()
            raise TritonUnavailableError(
                f"Triton at {url} is not reachable: {exc.message()}"
            ) from exc
        if not ready:
            self._client.close()
            state = "live but not ready (models still loading?)" if live else "not live"
            raise TritonUnavailableError(f"Triton at {url} is {state}")

    def _model_io(self, model: str) -> _ModelIO:
        # Metadata once per model: names and datatypes do not change while the server runs.
        with self._lock:
            cached = self._models.get(model)
            if cached is not None:
                return cached
            try:
                meta = self._client.get_model_metadata(
                    model, as_json=True, client_timeout=self.timeout_s
                )
            except InferenceServerException as exc:
                raise TritonUnavailableError(
                    f"Triton at {self.url} cannot serve model {model!r}: {exc.message()}"
                ) from exc
            io = _ModelIO(
                inputs={
                    t["name"]: np.dtype(triton_to_np_dtype(t["datatype"])) for t in meta["inputs"]
                },
                outputs=tuple(t["name"] for t in meta["outputs"]),
            )
            self._models[model] = io
            return io

    def infer(self, model: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        io = self._model_io(model)
        if set(inputs) != set(io.inputs):
            raise ValueError(f"{model} takes inputs {sorted(io.inputs)}, got {sorted(inputs)}")
        request = []
        for name, dtype in io.inputs.items():
            # Same contract as onnxruntime: the caller passes the model's dtype; we only make
            # the array contiguous, which set_data_from_numpy needs.
            array = np.ascontiguousarray(inputs[name])
            if array.dtype != dtype:
                raise ValueError(f"{model}.{name}: expected {dtype}, got {array.dtype}")
            tensor = grpcclient.InferInput(name, list(array.shape), np_to_triton_dtype(dtype))
            tensor.set_data_from_numpy(array)
            request.append(tensor)
        outputs = [grpcclient.InferRequestedOutput(name) for name in io.outputs]
        try:
            result = self._client.infer(
                model, request, outputs=outputs, client_timeout=self.timeout_s
            )
        except InferenceServerException as exc:
            raise RuntimeError(f"Triton at {self.url}, model {model}: {exc.message()}") from exc
        # as_numpy() views the read-only response buffer; copy so callers get writable arrays,
        # as from onnxruntime (a few KB per call).
        return {name: np.array(result.as_numpy(name)) for name in io.outputs}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> TritonRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
