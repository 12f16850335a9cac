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

VIDEO mode (``--video CLIP.mp4 [--start-frame K] [--max-frames N]``): FaceLandmarker in
``RunningMode.VIDEO`` (``detect_for_video``) over the clip's frames, decoded by ``load_video``
(OpenCV's FFmpeg reader, BGR -> RGB; the tests and the bench import it too, and every frame's
``rgb_sha1`` is written so they can check they fed their pipeline the same pixels). The first
frame runs the detector; later frames take their ROI from the previous frame's landmarks and
skip the detector while ``num_faces`` faces are tracked (face_landmarker_graph.cc). Two
MediaPipe behaviours decide how to run it as the reference for *raw tracked* landmarks:

* With ``num_faces == 1`` in VIDEO / LIVE_STREAM mode MediaPipe *smooths* the landmarks it
  returns: face_landmarker_graph.cc sets ``smooth_landmarks`` on the landmarks detector graph,
  which adds a LandmarksSmoothingCalculator (One Euro: min_cutoff 0.05, beta 80,
  derivate_cutoff 1.0) after the tracking loop (the next frame's ROI still comes from the raw
  landmarks). ``FaceLandmarkerOptions`` has no option to turn it off. By default the frames are
  therefore given timestamps ``DEFEAT_SMOOTHING_MS`` (1e6 s) apart: the filter's EMA weight is
  then 1 / (1 + tau / dt) = 1 - 3e-6 (tau = 1 / (2 pi 0.05 Hz) = 3.2 s) and it returns the raw
  landmarks; tracking itself does not look at time. ``--mediapipe-smoothing`` uses the clip's
  real timestamps (1000 / fps ms apart) instead, i.e. MediaPipe's smoothed output. Timestamps
  start at one interval, not 0: after a sample at 0 the filter keeps its default rate for the
  next one (measured: the second frame then came out almost the first frame's landmarks).
* With ``num_faces > 1`` and fewer faces in view, the detector runs on every frame and, where
  a detection overlaps a tracked ROI, AssociationNormRectCalculator keeps the detection (the
  later input): the landmarks are IMAGE mode's, not tracked ones. ``--video`` therefore
  defaults to ``--num-faces 1``.

Output (``--video``): as above but ``"video": {"path", "fps", "width", "height",
"start_frame", "smoothing": "defeated" | "mediapipe", "frames": [{"index", "timestamp_ms",
"rgb_sha1", "status": "ok" | "no_face", "faces": [...]}]}`` in place of ``"images"``.

``--video CLIP --bench N`` times ``detect_for_video`` per frame (mp.Image creation included)
over N frames after ``--warmup`` frames (the first, the detector's, among them), real
timestamps, the clip's frames in ping-pong order (``pingpong``: 0, 1, ..., n-1, n-2, ..., 0,
1, ...) so the motion stays continuous and the face stays tracked however many runs are asked
for; prints/writes the median in ms per tracked frame.
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


# Timestamps this far apart (1e6 s) make MediaPipe's VIDEO-mode One Euro smoothing a no-op.
DEFEAT_SMOOTHING_MS = 1_000_000_000


def load_video(
    path: str | os.PathLike[str], max_frames: int | None = None, start_frame: int = 0
) -> tuple[list[np.ndarray], float]:
    """(HxWx3 uint8 RGB frames start_frame.., at most max_frames, the clip's fps), decoded by
    OpenCV (FFmpeg). Both venvs decode the clips to identical pixels (checked per frame by
    rgb_sha1 wherever they are compared)."""
    import cv2  # both venvs have it; imported here so the images path needs only Pillow

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise RuntimeError(f"cannot open video {path}")
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
    frames: list[np.ndarray] = []
    index = 0
    try:
        while max_frames is None or len(frames) < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            if index >= start_frame:
                frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
            index += 1
    finally:
        cap.release()
    return frames, fps


def pingpong(frames: int, count: int) -> list[int]:
    """`count` frame indices 0, 1, ..., frames-1, frames-2, ..., 1, 0, 1, ...: a clip played
    back and forth, so motion stays continuous (a tracker never sees a cut)."""
    if frames < 1:
        raise ValueError("need at least one frame")
    if frames == 1:
        return [0] * count
    period = 2 * (frames - 1)
    return [i % period if i % period < frames else period - i % period for i in range(count)]


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
    """A MediaPipe FaceLandmarker in IMAGE mode, or VIDEO mode (`video=True`)."""

    def __init__(
        self,
        model: Path,
        num_faces: int,
        min_detection: float,
        min_presence: float,
        video: bool = False,
    ):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        self.video = video
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_faces=num_faces,
            min_face_detection_confidence=min_detection,
            min_face_presence_confidence=min_presence,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self.version: str = mp.__version__

    def detect(self, rgb: np.ndarray, timestamp_ms: int = 0) -> Any:
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        if self.video:
            return self._landmarker.detect_for_video(image, timestamp_ms)
        return self._landmarker.detect(image)

    def faces(self, rgb: np.ndarray, timestamp_ms: int = 0) -> list[dict[str, Any]]:
        h, w = rgb.shape[:2]
        out = []
        for face in self.detect(rgb, timestamp_ms).face_landmarks:
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


def run_video(
    ref: Reference, path: str, max_frames: int | None, start_frame: int, smoothing: bool
) -> dict[str, Any]:
    """VIDEO-mode landmarks for every frame (see the module docstring for `smoothing`)."""
    frames, fps = load_video(path, max_frames, start_frame)
    if not frames:
        raise RuntimeError(f"no frames in {path} from frame {start_frame}")
    step_ms = 1000.0 / fps if smoothing else DEFEAT_SMOOTHING_MS
    out = []
    for i, rgb in enumerate(frames):
        # From one step, not 0: MediaPipe's OneEuroFilter ignores the interval after a sample
        # at timestamp 0 and smooths the next one at its default rate, so with timestamps
        # from 0 the second frame came out ~99 % the first frame's landmarks.
        timestamp_ms = int(round((i + 1) * step_ms))
        faces = ref.faces(rgb, timestamp_ms)
        out.append(
            {
                "index": start_frame + i,
                "timestamp_ms": timestamp_ms,
                "rgb_sha1": rgb_sha1(rgb),
                "status": "ok" if faces else "no_face",
                "faces": faces,
            }
        )
    return {
        "path": str(path),
        "fps": fps,
        "width": int(frames[0].shape[1]),
        "height": int(frames[0].shape[0]),
        "start_frame": start_frame,
        "smoothing": "mediapipe" if smoothing else "defeated",
        "frames": out,
    }


def run_video_bench(
    ref: Reference, path: str, runs: int, warmup: int, max_frames: int | None, start_frame: int
) -> dict[str, Any]:
    """Per-frame detect_for_video time over `runs` frames after `warmup` (>= 1: the first
    frame runs the detector), the clip played in ping-pong order, real timestamps."""
    frames, fps = load_video(path, max_frames, start_frame)
    if not frames:
        raise RuntimeError(f"no frames in {path} from frame {start_frame}")
    warmup = max(warmup, 1)
    order = pingpong(len(frames), warmup + runs)
    times, faces = [], []
    for i, index in enumerate(order):
        t0 = time.perf_counter()
        result = ref.detect(frames[index], int(round((i + 1) * 1000.0 / fps)))
        took = (time.perf_counter() - t0) * 1e3
        if i >= warmup:
            times.append(took)
            faces.append(len(result.face_landmarks))
    return {
        "path": str(path),
        "status": "ok",
        "width": int(frames[0].shape[1]),
        "height": int(frames[0].shape[0]),
        "frames": len(frames),
        "start_frame": start_frame,
        "rgb_sha1": [rgb_sha1(f) for f in frames],  # the frames pingpong() indexes
        "runs": runs,
        "warmup": warmup,
        "frames_without_face": sum(1 for n in faces if n == 0),
        "median_ms": statistics.median(times),
        "p10_ms": float(np.percentile(times, 10)),
        "p90_ms": float(np.percentile(times, 90)),
        "times_ms": [round(t, 4) for t in times],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="*")
    parser.add_argument("--out", help="write JSON here (default: stdout)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument(
        "--num-faces", type=int, default=None, help="default 4 (images), 1 (--video)"
    )
    parser.add_argument("--video", help="a clip: VIDEO mode over its frames")
    parser.add_argument("--start-frame", type=int, default=0, help="--video: first frame")
    parser.add_argument("--max-frames", type=int, default=None, help="--video: at most N")
    parser.add_argument(
        "--mediapipe-smoothing",
        action="store_true",
        help="--video: real timestamps, so MediaPipe's own smoothing applies",
    )
    parser.add_argument("--min-detection-confidence", type=float, default=0.5)
    parser.add_argument("--min-presence-confidence", type=float, default=0.5)
    parser.add_argument("--bench", type=int, default=0, metavar="N", help="time N runs per image")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this one CPU")
    args = parser.parse_args(argv)
    if bool(args.images) == bool(args.video):
        parser.error("give images or --video CLIP (not both)")
    if args.num_faces is None:
        args.num_faces = 1 if args.video else 4

    if args.cpu is not None:
        _pin_one_cpu(args.cpu)
    if not args.model.is_file():
        print(
            f"model not found: {args.model} (run scripts/setup_mediapipe_reference.sh)",
            file=sys.stderr,
        )
        return 2
    ref = Reference(
        args.model,
        args.num_faces,
        args.min_detection_confidence,
        args.min_presence_confidence,
        video=bool(args.video),
    )
    images: list[dict[str, Any]] = []
    video: dict[str, Any] | None = None
    try:
        if args.video and args.bench > 0:
            video = run_video_bench(
                ref, args.video, args.bench, args.warmup, args.max_frames, args.start_frame
            )
        elif args.video:
            video = run_video(
                ref, args.video, args.max_frames, args.start_frame, args.mediapipe_smoothing
            )
        elif args.bench > 0:
            images = run_bench(ref, args.images, args.bench, args.warmup)
        else:
            images = run_landmarks(ref, args.images)
    finally:
        ref.close()
    doc: dict[str, Any] = {
        "mediapipe": ref.version,
        "model": str(args.model),
        "model_md5": _md5(args.model),
        "num_faces": args.num_faces,
        "cpus": sorted(os.sched_getaffinity(0)),
    }
    if video is not None:
        doc["video"] = video
    else:
        doc["images"] = images
    text = json.dumps(doc)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text + "\n")
    if video is not None and args.bench > 0:
        print(
            f"mediapipe {ref.version} VIDEO mode {video['width']}x{video['height']}: median "
            f"{video['median_ms']:.2f} ms per frame over {video['runs']} frames "
            f"({video['frames_without_face']} without a face), cpus {doc['cpus']}",
            file=sys.stderr,
        )
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
