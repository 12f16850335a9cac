"""The try-on engine: the one owner of try-on, in process.

    frame -> decode -> faces (detect, or track from the previous frame, then smooth) -> look
    -> paint -> encode

The photo TryOn task, the stream task, the benchmarks and the demo all call
`TryOnEngine.process`; nothing else assembles the pipeline. A photo (`state=None`) is found
from scratch (skin tone included, so its geometry can be cached) or painted on geometry recon
already cached. A video frame carries a `StreamState`: the faces' landmarks and smoother state
from the previous frame, so most frames run only the landmark model on a ROI taken from the
last landmarks (MediaPipe's VIDEO mode) and the detector runs only when a face is lost, when
fewer faces than wanted are tracked (every `detect_every` frames), or after a size change.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from services.common.errors import ErrorCode, TryonError
from services.common.image_codec import DecodedImage, decode_image, encode_image
from services.common.payloads import AppliedProduct, FaceResult
from services.recon import (
    FaceLandmarker,
    FaceLandmarks,
    TimedRuntime,
    create_runtime,
    landmarks_box,
    reconstruct_faces,
)
from services.render.landmark_smoothing import LandmarkSmoother, SmootherState, face_size
from services.render.makeup_renderer import MakeupRenderer

__all__ = ["EngineResult", "Frame", "StreamState", "TryOnEngine"]

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# A stream looking for new faces (fewer tracked than max_faces) runs the detector this often;
# a stream tracking all the faces it wants runs it only when one is lost.
DETECT_EVERY_FRAMES = 10
NUM_LANDMARKS = 478
_LANDMARK_BYTES = NUM_LANDMARKS * 3 * 4
_STATE_HEADER = struct.Struct("<4sIIIdI")  # magic, width, height, since-detect, t_s, faces
_STATE_MAGIC = b"TRS1"


@dataclass(frozen=True)
class Frame:
    """Encoded bytes (JPEG/PNG/WebP) or raw RGB pixels (H, W, 3) uint8."""

    data: bytes = b""
    rgb: np.ndarray | None = None


@dataclass
class TrackedFace:
    raw: np.ndarray  # (478, 3) float32: this frame's landmarks before smoothing (next ROI)
    smoother: SmootherState


@dataclass
class StreamState:
    """What a stream remembers between frames (kept in Redis between per-frame tasks)."""

    width: int = 0
    height: int = 0
    faces: list[TrackedFace] = field(default_factory=list)
    frames_since_detect: int = 0
    t_s: float = 0.0

    def to_bytes(self) -> bytes:
        parts = [
            _STATE_HEADER.pack(
                _STATE_MAGIC, self.width, self.height, self.frames_since_detect, self.t_s,
                len(self.faces),
            )
        ]  # fmt: skip
        for face in self.faces:
            smoother = face.smoother.to_bytes()
            parts += [
                np.ascontiguousarray(face.raw, "<f4").tobytes(),
                struct.pack("<I", len(smoother)),
                smoother,
            ]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> StreamState:
        magic, width, height, since, t_s, count = _STATE_HEADER.unpack_from(data, 0)
        if magic != _STATE_MAGIC:
            raise ValueError("not a stream state")
        offset, faces = _STATE_HEADER.size, []
        for _ in range(count):
            raw = np.frombuffer(data, "<f4", NUM_LANDMARKS * 3, offset).reshape(NUM_LANDMARKS, 3)
            offset += _LANDMARK_BYTES
            (size,) = struct.unpack_from("<I", data, offset)
            offset += 4
            smoother = SmootherState.from_bytes(data[offset : offset + size])
            offset += size
            faces.append(TrackedFace(raw=raw.copy(), smoother=smoother))
        return cls(width, height, faces, since, t_s)


@dataclass
class EngineResult:
    image: bytes
    content_type: str
    width: int
    height: int
    faces: list[FaceLandmarks]  # as painted: smoothed on video; pose only on video
    # Photo mode, found from scratch: the full geometry (skin tone too), for recon's cache.
    geometry: list[FaceResult] | None = None
    state: StreamState | None = None
    tracked: bool = False  # every face came from the previous frame (no detector run)
    timings_ms: dict[str, float] = field(default_factory=dict)


class _Stopwatch:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._begin = self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - self._last) * 1000
        self._last = now

    def total(self) -> float:
        return (time.perf_counter() - self._begin) * 1000


class TryOnEngine:
    """Models, textures and smoother, loaded once per worker process. `process` is the only
    entry point; a worker runs one frame at a time."""

    def __init__(
        self,
        renderer: MakeupRenderer | None = None,
        landmarker: FaceLandmarker | None = None,
        smoother: LandmarkSmoother | None = None,
        max_image_pixels: int = 50_000_000,
        detect_every: int = DETECT_EVERY_FRAMES,
    ) -> None:
        if landmarker is None:
            self._runtime = TimedRuntime(create_runtime())
            landmarker = FaceLandmarker(self._runtime)
            landmarker.warm_up()
        else:
            self._runtime = None
        self.landmarker = landmarker
        self.renderer = renderer or MakeupRenderer()
        self.smoother = smoother or LandmarkSmoother()
        self.max_image_pixels = max_image_pixels
        self.detect_every = detect_every

    def process(
        self,
        frame: Frame,
        look: Sequence[AppliedProduct],
        state: StreamState | None = None,
        *,
        geometry: Sequence[FaceResult] | None = None,
        max_faces: int = 1,
        face_index: int | None = None,
        output_format: str = "jpeg",
        side_by_side: bool = False,
        timestamp_s: float | None = None,
    ) -> EngineResult:
        """One photo (`state` None) or one video frame (`state` from the previous frame, or
        an empty `StreamState()` for the first). `geometry`: faces recon already found for
        this photo (no detection then). `look`: resolved products, in paint order; may be
        empty on video (faces only). Raises TryonError saying what to fix."""
        watch = _Stopwatch()
        if self._runtime is not None:
            self._runtime.take_spent()
        rgb = self._decode(frame)
        height, width = rgb.shape[:2]
        watch.lap("decode")
        result_geometry: list[FaceResult] | None = None
        tracked = False
        if state is None:
            if geometry is None:
                found = reconstruct_faces(self.landmarker, _as_decoded(rgb), max_faces)
                result_geometry = list(found)
                geometry = found
            faces = [_face_from_result(f) for f in geometry]
            watch.lap("landmarks")
            if not faces:
                raise TryonError(
                    ErrorCode.FAILED_PRECONDITION,
                    "no face found in the image: send a photo where the face is visible and lit",
                )
            if face_index is not None:
                if face_index >= len(faces):
                    raise TryonError(
                        ErrorCode.INVALID_ARGUMENT,
                        f"face_index is {face_index} but the image has {len(faces)} face(s)",
                    )
                faces = [faces[face_index]]
        else:
            t_s = time.monotonic() if timestamp_s is None else timestamp_s
            faces, state, tracked = self._video_faces(rgb, state, max_faces, t_s, watch)
        out = self.renderer.render(rgb, [f.landmarks for f in faces], look) if look else rgb
        if side_by_side:
            out = np.hstack([rgb, out])
        watch.lap("render")
        image = encode_image(out, output_format)
        watch.lap("encode")
        timings = dict(watch.ms)
        if self._runtime is not None:
            spent = self._runtime.take_spent()
            # The model calls happened inside the "landmarks" lap: split the detector out.
            detect_ms = spent.get("face_detector", 0.0) * 1000
            if detect_ms:
                timings["detect"] = detect_ms
                timings["landmarks"] = max(timings.get("landmarks", 0.0) - detect_ms, 0.0)
        timings["worker"] = watch.total()
        return EngineResult(
            image=image, content_type=CONTENT_TYPES[output_format], width=width,
            height=height, faces=faces, geometry=result_geometry, state=state,
            tracked=tracked, timings_ms=timings,
        )  # fmt: skip

    # -- stages ----------------------------------------------------------------------------
    def _decode(self, frame: Frame) -> np.ndarray:
        # Raw frames were checked at the edge (size, byte count); encoded ones decode here.
        if frame.rgb is not None:
            return frame.rgb
        return decode_image(frame.data, self.max_image_pixels).rgb

    def _video_faces(
        self, rgb: np.ndarray, state: StreamState, max_faces: int, t_s: float, watch: _Stopwatch
    ) -> tuple[list[FaceLandmarks], StreamState, bool]:
        height, width = rgb.shape[:2]
        if (state.width, state.height) != (width, height):
            state = StreamState(width=width, height=height)  # a new size: a new scene
        previous = state.faces[:max_faces]
        kept: list[tuple[np.ndarray, float, SmootherState | None]] = []
        lost = False
        if previous:
            for old, found in zip(
                previous,
                self.landmarker.track(rgb, [f.raw for f in previous], with_pose=False),
                strict=True,
            ):
                if found is None:
                    lost = True
                else:
                    kept.append((found.landmarks, found.confidence, old.smoother))
        since = state.frames_since_detect + 1
        wants_more = len(kept) < max_faces and (not previous or lost or since >= self.detect_every)
        detected = False
        if wants_more:
            new = self.landmarker.detect(
                rgb, max_faces - len(kept), skip=[k[0] for k in kept], with_pose=False
            )
            kept += [(f.landmarks, f.confidence, None) for f in new]
            since, detected = 0, True
        watch.lap("landmarks")
        faces, tracked_faces = [], []
        for raw, confidence, smoother_state in kept:
            smoothed, smoother = self.smoother.smooth(raw, t_s, smoother_state, face_size(raw))
            smoothed = np.asarray(smoothed, np.float32)
            # The pose of what is painted: the smoothed landmarks (no pose jitter either).
            pose = self.landmarker.pose(smoothed, width, height)
            faces.append(FaceLandmarks(smoothed, landmarks_box(smoothed), confidence, pose))
            tracked_faces.append(TrackedFace(raw=np.asarray(raw, np.float32), smoother=smoother))
        # Largest first, as the API promises (the state keeps the same order).
        order = sorted(range(len(faces)), key=lambda i: -faces[i].box[2] * faces[i].box[3])
        faces = [faces[i] for i in order]
        tracked_faces = [tracked_faces[i] for i in order]
        watch.lap("smooth")
        new_state = StreamState(width, height, tracked_faces, since, t_s)
        return faces, new_state, bool(previous) and not detected


def _face_from_result(face: FaceResult) -> FaceLandmarks:
    return FaceLandmarks(face.landmarks(), tuple(face.box), face.confidence, None)  # type: ignore[arg-type]


def _as_decoded(rgb: np.ndarray) -> DecodedImage:
    return DecodedImage(rgb=rgb, width=rgb.shape[1], height=rgb.shape[0], scale=1.0)
