"""Triton throughput for the face landmarks model, with and without dynamic batching, beside
in-process ONNX Runtime in the same run. Prints, never asserts.

    .venv/bin/python bench/bench_triton.py [--seconds 2.5]

A real Triton server (CPU, Python backend: deploy/triton/python_backend) serves the same ONNX
file under three names from a temp repository: `face_landmarks_detector` with the committed
config (dynamic batching), `face_landmarks_detector_nobatch` with the dynamic_batching
block removed (one request per model execution), and `face_landmarks_detector_x2` with two
model instances (two stub processes, as many as our cores). gRPC asyncio clients keep 1, 4 or 16
requests of one 256x256 face crop in flight. Client and server share this machine's cores, so
absolute figures are pessimistic for a real deployment; the ratios are the point.
Needs `make models` and `make triton`. About 45 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as aioclient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere

from services.recon.runtime import FACE_LANDMARKS_DETECTOR, default_model_dir  # noqa: E402
from services.recon.runtime.onnx_runtime import OnnxRuntime  # noqa: E402
from services.recon.runtime.triton_server import (  # noqa: E402
    TritonServer,
    make_python_backend_repository,
)

NOBATCH = f"{FACE_LANDMARKS_DETECTOR}_nobatch"
TWO_INSTANCES = f"{FACE_LANDMARKS_DETECTOR}_x2"
CONCURRENCY = (1, 4, 16)
DYNAMIC_BATCHING = """dynamic_batching {
  max_queue_delay_microseconds: 200
}"""


@dataclass
class Result:
    label: str
    per_s: float
    p50_ms: float
    avg_batch: float | None = None  # inferences per model execution, from Triton's statistics
    model: str = ""
    concurrency: int = 0


def face_crop() -> np.ndarray:
    """A real 256x256 face crop in [0, 1] (centre of the portrait; content does not change cost)."""
    shared = Path(os.environ.get("TRYON_SHARED_DATA", ROOT.parent / "shared" / "data"))
    image = cv2.imread(str(shared / "faces" / "portraits" / "obama.jpg"), cv2.IMREAD_COLOR)
    if image is None:
        image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), np.uint8)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def bench_onnx(x: np.ndarray, batch: int, seconds: float, threads: int = 1) -> Result:
    runtime = OnnxRuntime(default_model_dir(), threads=threads)
    inputs = {"image": np.ascontiguousarray(np.repeat(x[None], batch, axis=0))}
    for _ in range(3):
        runtime.infer(FACE_LANDMARKS_DETECTOR, inputs)
    latencies = []
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        runtime.infer(FACE_LANDMARKS_DETECTOR, inputs)
        latencies.append(time.perf_counter() - start)
    runtime.close()
    return Result(
        f"ONNX Runtime in-process, batch {batch:>2}, {threads} thread{'s' if threads > 1 else ''}",
        len(latencies) * batch / sum(latencies),
        float(np.median(latencies)) * 1e3,
    )


async def bench_triton(
    url: str, model: str, x: np.ndarray, concurrency: int, seconds: float
) -> Result:
    client = aioclient.InferenceServerClient(url)
    tensor = grpcclient.InferInput("image", [1, *x.shape], "FP32")
    tensor.set_data_from_numpy(x[None])
    latencies: list[float] = []

    async def worker(deadline: float) -> None:
        while (start := time.perf_counter()) < deadline:
            await client.infer(model, [tensor])
            latencies.append(time.perf_counter() - start)

    warm_until = time.perf_counter() + 0.3
    await asyncio.gather(*(worker(warm_until) for _ in range(concurrency)))
    latencies.clear()
    before = await _stats(client, model)
    began = time.perf_counter()
    await asyncio.gather(*(worker(began + seconds) for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    after = await _stats(client, model)
    await client.close()
    inferences, executions = (a - b for a, b in zip(after, before, strict=True))
    kind = {NOBATCH: "no batching", TWO_INSTANCES: "batching, 2 inst."}.get(
        model, "dynamic batching"
    )
    return Result(
        f"Triton {kind}, concurrency {concurrency:>2}",
        len(latencies) / elapsed,
        float(np.median(latencies)) * 1e3,
        inferences / executions if executions else None,
        model,
        concurrency,
    )


async def _stats(client: aioclient.InferenceServerClient, model: str) -> tuple[int, int]:
    stats = (await client.get_inference_statistics(model, as_json=True))["model_stats"][0]
    return int(stats.get("inference_count", 0)), int(stats.get("execution_count", 0))


def main(argv: Sequence[str] = ()) -> None:
    # argv defaults to none: `python -m bench` calls main() with its own sys.argv.
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.5, help="measured time per row")
    args = parser.parse_args(list(argv))
    x = face_crop()

    rows = [
        bench_onnx(x, 1, args.seconds),
        bench_onnx(x, 16, args.seconds),
        bench_onnx(x, 1, args.seconds, threads=2),
    ]
    with tempfile.TemporaryDirectory(prefix="tryon-bench-triton-") as tmp:
        repo = make_python_backend_repository(
            Path(tmp) / "repo",
            default_model_dir(),
            models={
                FACE_LANDMARKS_DETECTOR: FACE_LANDMARKS_DETECTOR,
                NOBATCH: FACE_LANDMARKS_DETECTOR,
                TWO_INSTANCES: FACE_LANDMARKS_DETECTOR,
            },
            config_edits={
                NOBATCH: [(DYNAMIC_BATCHING, "")],
                # One stub process per core: uses both cores, as ORT with 2 threads does.
                TWO_INSTANCES: [("count: 1", "count: 2")],
            },
        )
        started = time.perf_counter()
        with TritonServer(repo) as server:
            startup_s = time.perf_counter() - started
            for model in (NOBATCH, FACE_LANDMARKS_DETECTOR, TWO_INSTANCES):
                for concurrency in CONCURRENCY:
                    rows.append(
                        asyncio.run(
                            bench_triton(server.grpc_url, model, x, concurrency, args.seconds)
                        )
                    )

    # In-process again after Triton: a drift between the two rows means the machine was busy.
    again = bench_onnx(x, 1, args.seconds)
    again.label += " (again)"
    rows.append(again)
    base = rows[0].per_s
    print(
        f"\nface_landmarks_detector (256x256x3 float32), {os.cpu_count()} CPU cores, Triton 2.51 "
        f"Python backend + onnxruntime (1 thread per call); server ready in {startup_s:.1f} s"
    )
    print(f"{'':52} {'infer/s':>8} {'p50 ms':>8} {'vs first':>9} {'avg batch':>9}")
    for row in rows:
        batch = f"{row.avg_batch:.1f}" if row.avg_batch is not None else ""
        ratio = row.per_s / base
        print(f"{row.label:52} {row.per_s:8.1f} {row.p50_ms:8.2f} {ratio:8.2f}x {batch:>9}")
    print("\ndynamic batching / no batching, same concurrency:")
    triton = {(r.model, r.concurrency): r for r in rows if r.model}
    for concurrency in CONCURRENCY:
        on, off = triton[FACE_LANDMARKS_DETECTOR, concurrency], triton[NOBATCH, concurrency]
        print(f"  concurrency {concurrency:>2}: {on.per_s / off.per_s:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
