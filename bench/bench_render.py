"""Makeup render time on one core, against JPEG decode + encode of the same frame, same run.

    .venv/bin/python -m bench.bench_render [--runs 100] [--warmup 10] [--cpu K]

The selfie scene (bench/images.py `selfie`: the real portrait cropped so its face box is
~260x300 px in 640x480, and the same scene at 1280x960), landmarks from our own recon on
each frame. Cases: one lipstick, and a full five-product look (foundation, blush, eyeshadow,
eyeliner, lipstick), through `MakeupRenderer.render` as the worker calls it. The reference is
what the worker pays anyway for the same frame: cv2 JPEG decode + encode at quality 90 (BGR,
no colour conversion). Everything runs pinned to one CPU (os.sched_setaffinity) with OpenCV
and the BLAS pools at one thread; the cases are interleaved run by run, so drifting background
load hits them all alike; medians after a warm-up. The render is broken down into its two
stages (`_raster`: the mesh rasterized into a UV map; `_paint`: every product remapped and
composited in linear light), and the full look's paint product by product (each alone on the
full look's raster: they do not add up to the full paint, which converts the box to linear
light once). Prints; never asserts.
"""

from __future__ import annotations

import os

# Before numpy (and its BLAS) is first imported, when this runs as its own process; under
# `python -m bench` numpy is already loaded and the CPU pin below is what holds it to one core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench.images import PORTRAIT, selfie  # noqa: E402
from services.render.look import AppliedProduct  # noqa: E402
from services.render.makeup_renderer import MakeupRenderer  # noqa: E402

LIPSTICK = AppliedProduct.paint("lipstick", "#a8323e", finish="satin")
FULL_LOOK = (  # paint order; real-looking shades, the shimmer exercises the sparkle texture
    AppliedProduct.paint("foundation", "#c08a6c", finish="matte", coverage=0.6),
    AppliedProduct.paint("blush", "#d46a78", finish="satin", opacity=0.5),
    AppliedProduct.paint("eyeshadow", "#7a5040", finish="shimmer", opacity=0.7, zone="lid"),
    AppliedProduct.paint("eyeliner", "#1c1818", finish="matte"),
    LIPSTICK,
)
# The goals of the makeup-engine issue, at 640x480 on the selfie face, one core.
GOAL_MS = {"full look": 5.0, "lipstick": 0.5}
QUALITY = 90


def _one_core(cpu: int) -> Callable[[], None]:
    """Pins this process to `cpu`, OpenCV (and torch, if something loaded it) to one thread;
    returns what puts them back (`python -m bench` runs other benchmarks after this one)."""
    affinity, cv_threads = os.sched_getaffinity(0), cv2.getNumThreads()
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    torch = sys.modules.get("torch")  # the renderer never imports it
    torch_threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)

    def restore() -> None:
        os.sched_setaffinity(0, affinity)
        cv2.setNumThreads(cv_threads)
        if torch:
            torch.set_num_threads(torch_threads)

    return restore


class StageTimes:
    """Wraps the renderer's per-face stages on the instance (whatever their signatures) and
    adds the time spent in each to `spent` (ms), like bench_recon's TimedRuntime."""

    STAGES = {"_raster": "rasterize", "_paint": "paint (remap + composite)"}

    def __init__(self, renderer: MakeupRenderer) -> None:
        self.spent: dict[str, float] = {}
        for attr, stage in self.STAGES.items():
            inner = getattr(renderer, attr, None)
            if callable(inner):  # a renamed stage is left out, not an error
                self.spent[stage] = 0.0
                setattr(renderer, attr, self._timed(stage, inner))

    def _timed(self, stage: str, inner: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[stage] += (time.perf_counter() - t0) * 1e3

        return timed


class Timer:
    """Named cases, each a no-argument callable; `run` times each once per round, in turn,
    with the render stages spent inside each call."""

    def __init__(self, stages: StageTimes) -> None:
        self.stages = stages
        self.cases: dict[str, Callable[[], object]] = {}
        self.times: dict[str, list[float]] = {}
        self.per_call: dict[str, list[dict[str, float]]] = {}

    def add(self, name: str, fn: Callable[[], object]) -> None:
        self.cases[name] = fn
        self.times[name] = []
        self.per_call[name] = []

    def run(self, rounds: int, record: bool = True) -> None:
        spent = self.stages.spent
        for _ in range(rounds):
            for name, fn in self.cases.items():
                before = dict(spent)
                t0 = time.perf_counter()
                fn()
                elapsed = (time.perf_counter() - t0) * 1e3
                if record:
                    self.times[name].append(elapsed)
                    self.per_call[name].append({k: spent[k] - before[k] for k in spent})

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def stage_medians(self, name: str) -> dict[str, float]:
        calls, totals = self.per_call[name], self.times[name]
        out = {s: statistics.median(c[s] for c in calls) for s in self.stages.spent}
        out["rest (copy, checks, openings)"] = statistics.median(
            t - sum(c.values()) for t, c in zip(totals, calls, strict=True)
        )
        return out

    def summary(self, name: str) -> str:
        t = self.times[name]
        return (
            f"{statistics.median(t):7.3f} ms  (p10 {np.percentile(t, 10):.3f}, "
            f"p90 {np.percentile(t, 90):.3f})"
        )


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, QUALITY]
    )
    assert ok
    return buf.tobytes()


def _cases(
    timer: Timer, renderer: MakeupRenderer, rgb: np.ndarray, landmarks: np.ndarray, size: str
) -> None:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    data = np.frombuffer(_jpeg(rgb), np.uint8)
    params = [cv2.IMWRITE_JPEG_QUALITY, QUALITY]
    timer.add(f"{size} decode", lambda: cv2.imdecode(data, cv2.IMREAD_COLOR))
    timer.add(f"{size} encode", lambda: cv2.imencode(".jpg", bgr, params))
    looks = {"lipstick": [LIPSTICK], "full look": list(FULL_LOOK)}
    looks |= {f"{app.category} alone": [app] for app in FULL_LOOK[:-1]}
    for name, look in looks.items():
        timer.add(f"{size} {name}", lambda look=look: renderer.render(rgb, [landmarks], look))


def main(argv: list[str] | None = None) -> int:
    """argv None: defaults (bench/__main__.py calls main() with its own sys.argv around)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100, help="timed runs per case (>= 50)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--cpu", type=int, default=None, help="default: the first allowed CPU")
    args = parser.parse_args(argv or [])
    runs = max(args.runs, 50)
    cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))

    from services.recon.face_landmarker import FaceLandmarker
    from services.recon.runtime import create_runtime

    scenes = {"640x480": selfie(1), "1280x960": selfie(2)}
    runtime = create_runtime()
    try:
        landmarker = FaceLandmarker(runtime)
        faces = {size: landmarker.detect(rgb, max_faces=1) for size, rgb in scenes.items()}
    finally:
        runtime.close()
    restore = _one_core(cpu)
    try:
        renderer = MakeupRenderer()
        timer = Timer(StageTimes(renderer))
        for size, rgb in scenes.items():
            if not faces[size]:
                raise RuntimeError(f"no face found in the {size} selfie scene")
            _cases(timer, renderer, rgb, faces[size][0].landmarks, size)
        timer.run(args.warmup, record=False)
        timer.run(runs)
        # The same lipstick back to back, no stage timers: what a stream's frame pays when the
        # frame was just decoded (warm caches), beside the interleaved (cold-cache) figure.
        plain = MakeupRenderer()
        rgb, marks = scenes["640x480"], faces["640x480"][0].landmarks
        warm = []
        for i in range(runs * 3):
            t0 = time.perf_counter()
            plain.render(rgb, [marks], [LIPSTICK])
            if i >= args.warmup:
                warm.append((time.perf_counter() - t0) * 1e3)
    finally:
        restore()

    print(
        f"render bench: {PORTRAIT.name} as a selfie scene, CPU {cpu} only, OpenCV 1 thread, "
        f"{runs} interleaved runs per case after {args.warmup} warm-up, medians"
    )
    report: dict[str, dict[str, Any]] = {}
    for size in scenes:
        _, _, bw, bh = faces[size][0].box
        decode, encode = timer.median(f"{size} decode"), timer.median(f"{size} encode")
        codec = decode + encode
        print(f"  {size}, face box {bw:.0f}x{bh:.0f} px")
        print(f"    {'jpeg decode (cv2)':28} {timer.summary(f'{size} decode')}")
        print(f"    {f'jpeg encode (cv2, q{QUALITY})':28} {timer.summary(f'{size} encode')}")
        print(f"    {'decode + encode: reference':28} {codec:7.3f} ms")
        figures: dict[str, Any] = {"decode_ms": decode, "encode_ms": encode}
        for name in ("lipstick", "full look"):
            ms = timer.median(f"{size} {name}")
            goal = GOAL_MS[name] if size == "640x480" else None
            goal_text = f"; goal <= {goal} ms: {ms / goal:.2f} x goal" if goal else ""
            print(f"    {name:28} {timer.summary(f'{size} {name}')}")
            print(f"      ratio render / (decode + encode) = {ms / codec:.2f}{goal_text}")
            stages = timer.stage_medians(f"{size} {name}")
            print("      " + ", ".join(f"{k} {v:.3f} ms" for k, v in stages.items()))
            figures[name.replace(" ", "_")] = {"ms": ms, "ratio_vs_codec": ms / codec,
                                               "stages_ms": stages}  # fmt: skip
        print("    each product of the full look alone (its own raster):")
        for app in FULL_LOOK[:-1]:
            name = f"{app.category} alone"
            stages = timer.stage_medians(f"{size} {name}")
            ms = timer.median(f"{size} {name}")
            paint = stages.get("paint (remap + composite)", float("nan"))
            print(f"      {app.category:26} {ms:7.3f} ms, of which paint {paint:.3f} ms")
            figures[name.replace(" ", "_")] = {"ms": ms, "stages_ms": stages}
        report[size] = figures
    warm_ms = statistics.median(warm)
    print(
        f"  640x480 lipstick back to back (warm caches, no stage timers): {warm_ms:.3f} ms; "
        f"goal <= {GOAL_MS['lipstick']} ms: {warm_ms / GOAL_MS['lipstick']:.2f} x goal"
    )
    report["640x480"]["lipstick_warm_ms"] = warm_ms
    print(json.dumps({"bench": "render", "cpu": cpu, "runs": runs, "sizes": _rounded(report)}))
    return 0


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
