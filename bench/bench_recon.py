"""Recon latency on one core: our FaceLandmarker vs MediaPipe's own, same image, same run.

    .venv/bin/python -m bench.bench_recon [--runs 300] [--rounds 3] [--cpu K]

The real portrait tests/data/obama.jpg letterboxed into 640x480 (bench/images.py, the input
every benchmark shares; the face is ~100 px wide), written as PNG so both sides decode
identical pixels. Both run IMAGE mode (detection + landmarks on every call, no tracking), one
face, pinned to the same single CPU (os.sched_setaffinity; ONNX Runtime with 1 intra-op
thread, MediaPipe's XNNPACK at its default 1 thread), one after the other so they never share
the core, alternating in rounds so drifting background load hits both alike; medians over all
runs after a warm-up. Ours is broken down by stage: the two model inferences are timed at the
runtime interface, the rest (pre/post-processing: letterbox, anchors, NMS, ROI crop/warp,
projection, head pose) is total minus inference. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from PIL import Image

from bench.images import PORTRAIT, portrait_640x480

ROOT = Path(__file__).resolve().parents[1]


def _reference_module() -> ModuleType:
    # The reference script doubles as the helper that runs it in its own venv.
    path = ROOT / "tests" / "reference" / "mediapipe_landmarks.py"
    spec = importlib.util.spec_from_file_location("tryon_mediapipe_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class TimedRuntime:
    """Wraps an InferenceRuntime and records each model's inference time (ms)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.times: dict[str, list[float]] = defaultdict(list)

    def infer(self, model: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        t0 = time.perf_counter()
        out = self.inner.infer(model, inputs)
        self.times[model].append((time.perf_counter() - t0) * 1e3)
        return out

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:  # anything else the pipeline may use
        return getattr(self.inner, name)


class OursBench:
    """Our FaceLandmarker on a timing runtime; `time(n)` adds n samples."""

    def __init__(self, rgb: np.ndarray, warmup: int) -> None:
        from services.recon.face_landmarker import FaceLandmarker
        from services.recon.runtime import create_runtime

        self.rgb = rgb
        self.runtime = TimedRuntime(create_runtime())
        self.landmarker = FaceLandmarker(self.runtime)  # type: ignore[arg-type]  # duck-typed
        for _ in range(warmup):
            self.faces = len(self.landmarker.detect(rgb, max_faces=1))
        self.totals: list[float] = []
        self.per_call: list[dict[str, float]] = []

    def time(self, runs: int) -> None:
        times = self.runtime.times
        for _ in range(runs):
            before = {m: len(t) for m, t in times.items()}
            t0 = time.perf_counter()
            self.landmarker.detect(self.rgb, max_faces=1)
            self.totals.append((time.perf_counter() - t0) * 1e3)
            self.per_call.append({m: sum(t[before.get(m, 0) :]) for m, t in times.items()})

    def stages(self) -> dict[str, float]:
        models = sorted({m for c in self.per_call for m in c})
        out = {
            f"{m} inference": statistics.median(c.get(m, 0.0) for c in self.per_call)
            for m in models
        }
        out["pre/post-processing"] = statistics.median(
            t - sum(c.values()) for t, c in zip(self.totals, self.per_call, strict=True)
        )
        return out

    def close(self) -> None:
        self.runtime.close()


def _summary(samples: list[float]) -> str:
    return (
        f"{statistics.median(samples):7.2f} ms  (p10 {np.percentile(samples, 10):.2f}, "
        f"p90 {np.percentile(samples, 90):.2f}, n={len(samples)})"
    )


def main(argv: list[str] | None = None) -> int:
    """argv None: defaults (bench/__main__.py calls main() with its own sys.argv around)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="timed runs per side (>= 100)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternate ours / MediaPipe this many times (shared load drifts)",
    )
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--cpu", type=int, default=None, help="default: the first allowed CPU")
    args = parser.parse_args(argv or [])
    rounds = max(args.rounds, 1)
    per_round = -(-max(args.runs, 100) // rounds)

    cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
    # Before onnxruntime is imported/created: every thread it starts inherits the mask.
    os.environ["TRYON_INFERENCE_THREADS"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.sched_setaffinity(0, {cpu})
    ref = _reference_module()

    with tempfile.TemporaryDirectory() as tmp:
        frame = Path(tmp) / "frame640x480.png"
        Image.fromarray(portrait_640x480()).save(frame, "PNG")
        rgb, _ = ref.load_image(frame)
        print(
            f"recon bench: {PORTRAIT.name} letterboxed to {rgb.shape[1]}x{rgb.shape[0]}, "
            f"IMAGE mode, 1 face, CPU {cpu} only, {rounds} alternating rounds of "
            f"{per_round} runs per side, medians over all"
        )
        ours = OursBench(rgb, args.warmup)
        mp_times: list[float] = []
        try:
            for _ in range(rounds):
                ours.time(per_round)
                doc = ref.run_reference(
                    [frame],
                    Path(tmp) / "mp.json",
                    "--bench",
                    str(per_round),
                    "--warmup",
                    str(args.warmup),
                    "--cpu",
                    str(cpu),
                    "--num-faces",
                    "1",
                )
                mp_times += doc["images"][0]["times_ms"]
        finally:
            ours.close()
        mp_faces = doc["images"][0]["faces"]

    stages = ours.stages()
    print(f"  ours       {_summary(ours.totals)}; {ours.faces} face")
    for stage, ms in stages.items():
        print(f"    {stage:34} {ms:7.2f} ms")
    print(
        f"  mediapipe  {_summary(mp_times)}; {mp_faces} face; mediapipe {doc['mediapipe']} "
        f"tasks, cpus {doc['cpus']}"
    )
    ours_ms, mp_ms = statistics.median(ours.totals), statistics.median(mp_times)
    print(f"  ratio ours / mediapipe = {ours_ms / mp_ms:.2f}  (goal <= 1.0)")
    print(
        json.dumps(
            {
                "bench": "recon",
                "ours_ms": round(ours_ms, 3),
                "mediapipe_ms": round(mp_ms, 3),
                "ratio": round(ours_ms / mp_ms, 3),
                "stages_ms": {k: round(v, 3) for k, v in stages.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
