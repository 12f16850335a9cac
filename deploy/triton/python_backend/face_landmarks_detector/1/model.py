"""Triton Python-backend model: serves `model.onnx` (next to this file) with onnxruntime.

For CPU machines whose Triton has only the Python backend (ours: the `nvidia-pytriton` wheel).
Production GPUs use `deploy/triton/model_repository/` with Triton's own ONNX Runtime backend;
both repositories expose the same model names and tensors. The same file serves every model:
it reads tensor names from the ONNX file and the model config, so there is nothing to edit.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any


def _ensure_site_packages() -> None:
    """Makes numpy/onnxruntime importable: the stub ignores PYTHONPATH.

    `scripts/run_triton.sh` already puts the Triton venv first on PATH, which makes the stub's
    embedded Python start inside that venv. This fallback covers a server started by hand:
    `TRYON_TRITON_SITE_PACKAGES`, else the site-packages that holds the pytriton backend.
    """
    try:
        import onnxruntime  # noqa: F401

        return
    except ImportError:
        pass
    candidates = [
        p for p in os.environ.get("TRYON_TRITON_SITE_PACKAGES", "").split(os.pathsep) if p
    ]
    # The backend dir is on sys.path; in the pytriton wheel it lies inside the venv:
    # .../site-packages/pytriton/tritonserver/backends/python/triton_python_backend_utils.py
    utils = importlib.util.find_spec("triton_python_backend_utils")
    if utils is not None and utils.origin:
        candidates.append(str(Path(utils.origin).resolve().parents[4]))
    for path in candidates:
        if Path(path, "onnxruntime").is_dir() and path not in sys.path:
            sys.path.insert(0, path)


_ensure_site_packages()

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402


class TritonPythonModel:
    """One onnxruntime session per model instance, loaded once in `initialize`."""

    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        path = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        options = ort.SessionOptions()
        # One instance per core is the scaling knob on CPU; threads inside a call fight over
        # the same cores (2 here) and with the server's own threads.
        options.intra_op_num_threads = int(params.get("intra_op_num_threads", "1"))
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        onnx_inputs = {i.name for i in self.session.get_inputs()}
        onnx_outputs = {o.name for o in self.session.get_outputs()}
        self.input_names = [i["name"] for i in config["input"]]
        self.output_names = [o["name"] for o in config["output"]]
        # Fail at load time, not on the first request, when the config and the file disagree.
        if set(self.input_names) != onnx_inputs or not set(self.output_names) <= onnx_outputs:
            raise pb_utils.TritonModelException(
                f"{path}: config I/O {self.input_names} -> {self.output_names} does not match "
                f"the ONNX file {sorted(onnx_inputs)} -> {sorted(onnx_outputs)}"
            )
        self.output_dtypes = {
            o["name"]: pb_utils.triton_string_to_numpy(o["data_type"]) for o in config["output"]
        }

    def execute(self, requests: list[Any]) -> list[Any]:
        # The dynamic batcher hands over several requests at once: run them as one batch (the
        # whole point of batching) and split the outputs back along the batch dim.
        feeds: dict[str, list[np.ndarray]] = {name: [] for name in self.input_names}
        sizes: list[int] = []
        for request in requests:
            for name in self.input_names:
                feeds[name].append(pb_utils.get_input_tensor_by_name(request, name).as_numpy())
            sizes.append(feeds[self.input_names[0]][-1].shape[0])
        batch = {
            name: arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=0)
            for name, arrays in feeds.items()
        }
        try:
            results = self.session.run(self.output_names, batch)
        except Exception as exc:  # onnxruntime raises its own exception types
            error = pb_utils.TritonError(f"onnxruntime failed: {exc}")
            return [pb_utils.InferenceResponse(output_tensors=[], error=error) for _ in requests]
        responses = []
        start = 0
        for size in sizes:
            tensors = [
                pb_utils.Tensor(
                    name,
                    np.ascontiguousarray(result[start : start + size], self.output_dtypes[name]),
                )
                for name, result in zip(self.output_names, results, strict=True)
            ]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
            start += size
        return responses

    def finalize(self) -> None:
        self.session = None
