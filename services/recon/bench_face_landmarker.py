"""Per-stage timings of the face landmarker on one core (median of N runs).

    taskset -c 0 .venv/bin/python -m services.recon.bench_face_landmarker [IMAGE ...]

Stages: detector input (letterbox warp + scaling), detector model, detector decoding + NMS,
landmarks crop (rotated warp + scaling, all faces), landmarks model, projection + head pose;
then `FaceLandmarker.detect` end to end.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from services.recon.face_landmarker import (
    FaceLandmarker,
    crop_faces,
    project_landmarks,
    roi_from_detection,
)
from services.recon.runtime import FACE_DETECTOR, default_model_dir
from services.recon.runtime.onnx_runtime import OnnxRuntime

REPO = Path(__file__).resolve().parents[2]
DEFAULT_IMAGE = (
    Path(os.environ.get("TRYON_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "faces"
    / "portraits"
    / "obama-480p.jpg"
)


def median_ms(fn: Callable[[], object], runs: int) -> float:
    for _ in range(max(3, runs // 10)):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def bench(path: Path, runs: int, max_faces: int) -> None:
    image = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    runtime = OnnxRuntime(default_model_dir(), threads=1)
    landmarker = FaceLandmarker(runtime)
    detector = landmarker.detector
    height, width = image.shape[:2]
    det_in = detector.preprocess(image).copy()
    det_out = runtime.infer(FACE_DETECTOR, {"image": det_in})
    detections = detector.detect(image)[:max_faces]
    rois = [roi_from_detection(d) for d in detections]
    stages = {
        "detector input": lambda: detector.preprocess(image),
        "detector model": lambda: runtime.infer(FACE_DETECTOR, {"image": det_in}),
        "detector decode+NMS": lambda: detector.postprocess(
            det_out["regressors"][0], det_out["classificators"][0, :, 0], width, height
        ),
    }
    if rois:
        crops = crop_faces(image, rois)
        raw, _ = landmarker._infer_landmarks(crops)  # noqa: SLF001 - benchmark of internals

        def finish() -> None:
            for roi, face in zip(rois, raw, strict=True):
                points = project_landmarks(face, roi, width, height)
                landmarker._pose.estimate(points, width, height)  # noqa: SLF001

        stages |= {
            f"landmarks crop x{len(rois)}": lambda: crop_faces(image, rois),
            f"landmarks model x{len(rois)}": lambda: landmarker._infer_landmarks(crops),  # noqa: SLF001
            "projection+pose": finish,
        }
    print(f"{path.name} {width}x{height}, faces {len(rois)}")
    for name, fn in stages.items():
        print(f"  {name:24s} {median_ms(fn, runs):7.3f} ms")
    total = median_ms(lambda: landmarker.detect(image, max_faces=max_faces), runs)
    print(f"  {'detect() end to end':24s} {total:7.3f} ms")
    runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", type=Path, default=[DEFAULT_IMAGE])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--max-faces", type=int, default=4)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core, like the MediaPipe figure we compare with
    for path in args.images:
        bench(path, args.runs, args.max_faces)


if __name__ == "__main__":
    main()
