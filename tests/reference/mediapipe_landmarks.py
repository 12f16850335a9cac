"""MediaPipe's own Face Landmarker, run as the reference for recon's accuracy tests and bench.

Run it with the reference interpreter (made by scripts/setup_mediapipe_reference.sh), never the
services' venv: mediapipe's deps clash with ours.

    .venv-mediapipe/bin/python tests/reference/mediapipe_landmarks.py IMG... --out ref.json
    .venv-mediapipe/bin/python tests/reference/mediapipe_landmarks.py IMG --bench 100 --cpu 0

How images are decoded (``load_image``, also imported by the tests and the bench so every side
sees the very same pixels): with the gateway's own decoder,
``services.common.image_codec.decode_image`` at full size (numpy + Pillow only, so it imports
in the reference venv too):

* EXIF orientation is applied, so landmarks are in pixels of the upright image;
* alpha is flattened onto mid-grey, 16-bit grey rescaled to 8 bits, every mode made RGB;
* grayscale sources (PIL modes 1, L, LA, I, I;16, F) reach our pipeline as R=G=B, but
  MediaPipe is not run on them: its FaceLandmarker rejects GRAY8 input (a tensor-size RET_CHECK
  in the detector) and the failed graph then fails every later call. They are reported with
  ``status: "grayscale"`` and no faces: "no result".

Output (``--out``, JSON): ``{"mediapipe": version, "model_md5": ..., "images": [{"path",
"width", "height", "rgb_sha1" (of the decoded HxWx3 uint8 bytes, so a test can check it fed
its pipeline the same pixels), "status": "ok" | "no_face" | "grayscale" | "error", "error",
"faces": [{"landmarks": 478 x [x, y, z], "box": [x_min, y_min, w, h]}]}]}``. x, y are pixels;
z is MediaPipe's normalised z times the image width (its z shares x's scale). Faces are sorted
largest box first, the order our FaceLandmarker uses; the box is the landmarks' bounding box.

``--bench N`` times IMAGE-mode ``detect`` (mp.Image creation included, as a caller from numpy
pays it) N times per image after warm-up and prints/writes the median in ms. ``--cpu K`` pins
the process to one CPU before mediapipe is imported, so every thread it starts inherits it
(MediaPipe's XNNPACK delegate defaults to 1 thread on Linux; the pin makes it certain).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

GRAYSCALE_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
REPO_ROOT = Path(__file__).resolve().parents[2]
# Same place the services and scripts/setup_mediapipe_reference.sh use.
DEFAULT_MODEL = (
    Path(os.environ.get("TRYON_MODEL_DIR", REPO_ROOT / "models")) / "face_landmarker.task"
)


def load_image(path: str | os.PathLike[str]) -> tuple[np.ndarray, bool]:
    """(HxWx3 uint8 RGB as our pipeline sees it, whether the source is grayscale)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))  # the reference venv does not install the project
    from services.common.image_codec import decode_image

    with Image.open(path) as im:
        grayscale = im.mode in GRAYSCALE_MODES
    rgb = decode_image(Path(path).read_bytes(), max_pixels=1 << 40).rgb
    return np.ascontiguousarray(rgb, dtype=np.uint8), grayscale


def rgb_sha1(rgb: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(rgb).tobytes()).hexdigest()


def shared_data_dir() -> Path:
    """$TRYON_SHARED_DATA, else <repo>/../shared/data."""
    return Path(os.environ.get("TRYON_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def reference_python() -> Path:
    """The reference venv's interpreter ($TRYON_MEDIAPIPE_VENV, else <repo>/.venv-mediapipe)."""
    venv = Path(os.environ.get("TRYON_MEDIAPIPE_VENV", REPO_ROOT / ".venv-mediapipe"))
    return venv / "bin" / "python"


def run_reference(
    images: list[Path], out: Path, *extra: str, timeout: float = 900
) -> dict[str, Any]:
    """Runs this script in the reference venv (a subprocess: mediapipe cannot be imported in
    the services' venv) and returns its JSON. Fails loudly, never skips: CI must run it."""
    python = reference_python()
    if not python.is_file():
        raise RuntimeError(
            f"{python} missing: run `bash scripts/setup_mediapipe_reference.sh` first"
        )
    cmd = [str(python), str(Path(__file__).resolve()), *map(str, images), "--out", str(out), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"reference failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-4000:]}"
        )
    return json.loads(out.read_text())


def _pin_one_cpu(cpu: int) -> None:
    # Before importing mediapipe: threads inherit the mask. The env caps anything that reads it.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TFLITE_NUM_THREADS"):
        os.environ[var] = "1"
    os.sched_setaffinity(0, {cpu})


class Reference:
    """A MediaPipe FaceLandmarker in IMAGE mode."""

    def __init__(self, model: Path, num_faces: int, min_detection: float, min_presence: float):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=num_faces,
            min_face_detection_confidence=min_detection,
            min_face_presence_confidence=min_presence,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self.version: str = mp.__version__

    def detect(self, rgb: np.ndarray) -> Any:
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        return self._landmarker.detect(image)

    def faces(self, rgb: np.ndarray) -> list[dict[str, Any]]:
        h, w = rgb.shape[:2]
        out = []
        for face in self.detect(rgb).face_landmarks:
            pts = np.array([[p.x * w, p.y * h, p.z * w] for p in face], dtype=np.float64)
            x0, y0 = pts[:, :2].min(axis=0)
            x1, y1 = pts[:, :2].max(axis=0)
            box = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
            out.append({"landmarks": np.round(pts, 4).tolist(), "box": box})
        out.sort(key=lambda f: -f["box"][2] * f["box"][3])
        return out

    def close(self) -> None:
        self._landmarker.close()


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def run_landmarks(ref: Reference, paths: list[str]) -> list[dict[str, Any]]:
    results = []
    for path in paths:
        rgb, grayscale = load_image(path)
        entry: dict[str, Any] = {
            "path": str(path),
            "width": int(rgb.shape[1]),
            "height": int(rgb.shape[0]),
            "rgb_sha1": rgb_sha1(rgb),
            "faces": [],
        }
        if grayscale:
            entry["status"] = "grayscale"
        else:
            try:
                entry["faces"] = ref.faces(rgb)
                entry["status"] = "ok" if entry["faces"] else "no_face"
            except Exception as exc:  # noqa: BLE001 - one bad image must not lose the others
                entry["status"] = "error"
                entry["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        results.append(entry)
    return results


def run_bench(ref: Reference, paths: list[str], runs: int, warmup: int) -> list[dict[str, Any]]:
    results = []
    for path in paths:
        rgb, grayscale = load_image(path)
        if grayscale:
            results.append({"path": str(path), "status": "grayscale"})
            continue
        for _ in range(warmup):
            ref.detect(rgb)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            ref.detect(rgb)
            times.append((time.perf_counter() - t0) * 1e3)
        n_faces = len(ref.detect(rgb).face_landmarks)
        results.append(
            {
                "path": str(path),
                "status": "ok",
                "width": int(rgb.shape[1]),
                "height": int(rgb.shape[0]),
                "faces": n_faces,
                "runs": runs,
                "median_ms": statistics.median(times),
                "p10_ms": float(np.percentile(times, 10)),
                "p90_ms": float(np.percentile(times, 90)),
                "times_ms": [round(t, 4) for t in times],
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+")
    parser.add_argument("--out", help="write JSON here (default: stdout)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--num-faces", type=int, default=4)
    parser.add_argument("--min-detection-confidence", type=float, default=0.5)
    parser.add_argument("--min-presence-confidence", type=float, default=0.5)
    parser.add_argument("--bench", type=int, default=0, metavar="N", help="time N runs per image")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this one CPU")
    args = parser.parse_args(argv)

    if args.cpu is not None:
        _pin_one_cpu(args.cpu)
    if not args.model.is_file():
        print(
            f"model not found: {args.model} (run scripts/setup_mediapipe_reference.sh)",
            file=sys.stderr,
        )
        return 2
    ref = Reference(
        args.model, args.num_faces, args.min_detection_confidence, args.min_presence_confidence
    )
    try:
        if args.bench > 0:
            images = run_bench(ref, args.images, args.bench, args.warmup)
        else:
            images = run_landmarks(ref, args.images)
    finally:
        ref.close()
    doc = {
        "mediapipe": ref.version,
        "model": str(args.model),
        "model_md5": _md5(args.model),
        "num_faces": args.num_faces,
        "cpus": sorted(os.sched_getaffinity(0)),
        "images": images,
    }
    text = json.dumps(doc)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text + "\n")
    if args.bench > 0:
        for item in images:
            if item["status"] == "ok":
                print(
                    f"mediapipe {ref.version} IMAGE mode {item['width']}x{item['height']} "
                    f"{item['faces']} face(s): median {item['median_ms']:.2f} ms over "
                    f"{item['runs']} runs, cpus {doc['cpus']}",
                    file=sys.stderr,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
