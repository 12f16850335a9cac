"""Face landmarker: 478 3D landmarks per face, MediaPipe Face Landmarker v2 (IMAGE mode) replica.

Pipeline as in mediapipe/tasks/cc/vision/face_landmarker (face_landmarker_graph.cc,
face_detector_graph.cc, face_landmarks_detector_graph.cc):
  1. BlazeFace detection (face_detector.py);
  2. ROI per face: the detection box, rotated so the line from keypoint 0 to keypoint 1 (the
     eyes) is horizontal, scaled by 1.5 (the detector graph's EXPANDED_FACE_RECTS, which IMAGE
     mode feeds to the landmarks graph);
  3. one warpAffine per face to a 256x256 crop in [0, 1], replicated borders, all faces batched
     in one landmarks-model call;
  4. landmarks / 256 -> ROI -> image (MediaPipe's LandmarkProjectionCalculator); z in x's
     pixel scale (~ raw_z / 256 * ROI width, see project_landmarks); presence =
     sigmoid(logit) >= threshold;
  5. head pose from the 468 mesh points (head_pose.py, MediaPipe's geometry pipeline).
Measured against MediaPipe 1.2.3 on the 14 portraits: max 0.6%, mean <= 0.1% of the
inter-ocular distance per point; pose within 0.2 degrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from face_topology import load_canonical_face_model
from services.recon.face_detector import (
    DEFAULT_MIN_DETECTION_CONFIDENCE,
    FaceDetection,
    FaceDetector,
    Keypoint,
)
from services.recon.head_pose import HeadPose, HeadPoseEstimator
from services.recon.runtime import FACE_LANDMARKS_DETECTOR, InferenceRuntime

NUM_LANDMARKS = 478
NUM_MESH_LANDMARKS = 468
INPUT_SIZE = 256
INPUT_NAME = "image"
OUTPUT_LANDMARKS = "landmarks"
OUTPUT_PRESENCE = "presence_logit"
ROI_SCALE = 1.5
ROI_TARGET_ANGLE = 0.0
DEFAULT_MIN_PRESENCE_CONFIDENCE = 0.5
# Images whose long side exceeds this are halved (2x2 area average) until it does not. Not for
# speed -- the crops are warped straight from the full image, so their cost does not grow with
# it -- but against aliasing: bilinear sampling of a 128/256-px tensor from a face thousands of
# pixels wide skips most pixels. Exact 2x halving is cheap (4.7 ms for 12 MP; an arbitrary
# INTER_AREA factor costs 50-75 ms). 2560 leaves everything up to 2.5K untouched, where we match
# MediaPipe (which never shrinks) point for point; shrinking a 2.2K portrait to 1.1K moved
# landmarks by up to 1.4% of the inter-ocular distance.
DEFAULT_MAX_IMAGE_SIDE = 2560


@dataclass(frozen=True)
class FaceLandmarks:
    landmarks: np.ndarray  # (478, 3) float32: x, y pixels of the input image; z same scale as x
    box: tuple[float, float, float, float]  # x_min, y_min, width, height of the landmarks
    confidence: float  # face presence score in [0, 1]
    pose: HeadPose | None  # None when the caller asked for none (it poses smoothed landmarks)


@dataclass(frozen=True)
class FaceRoi:
    """A rotated rectangle in image pixels (MediaPipe's NormalizedRect, de-normalised)."""

    center_x: float
    center_y: float
    width: float
    height: float
    rotation: float  # radians, clockwise in image coordinates (y down)


def normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_detection(detection: FaceDetection) -> FaceRoi:
    """DetectionsToRectsCalculator (rotation from the eyes) + RectTransformationCalculator."""
    x_min, y_min, width, height = detection.box
    start = detection.keypoints[Keypoint.EYE_IMAGE_LEFT]
    end = detection.keypoints[Keypoint.EYE_IMAGE_RIGHT]
    rotation = normalize_radians(
        ROI_TARGET_ANGLE
        - math.atan2(-(float(end[1]) - float(start[1])), float(end[0]) - float(start[0]))
    )
    return FaceRoi(
        center_x=x_min + width / 2,
        center_y=y_min + height / 2,
        width=width * ROI_SCALE,
        height=height * ROI_SCALE,
        rotation=rotation,
    )


# MediaPipe VIDEO mode (face_landmarks_detector_graph.cc, "face_rect_next_frame"): the next
# frame's ROI is the box of this frame's landmarks, rotated by the line between the outer eye
# corners, made square on its long side and scaled by 1.5.
TRACK_ROTATION_START = 33
TRACK_ROTATION_END = 263
TRACK_ROI_SCALE = 1.5


def roi_from_landmarks(landmarks: np.ndarray) -> FaceRoi:
    """The ROI that tracks a face into the next frame (LandmarksToDetection ->
    DetectionsToRects with rotation from landmarks 33 -> 263 -> RectTransformation square_long,
    scale 1.5), in image pixels."""
    x_min, y_min = landmarks[:, :2].min(axis=0)
    x_max, y_max = landmarks[:, :2].max(axis=0)
    start, end = landmarks[TRACK_ROTATION_START], landmarks[TRACK_ROTATION_END]
    rotation = normalize_radians(
        ROI_TARGET_ANGLE
        - math.atan2(-(float(end[1]) - float(start[1])), float(end[0]) - float(start[0]))
    )
    side = max(float(x_max - x_min), float(y_max - y_min)) * TRACK_ROI_SCALE
    return FaceRoi(
        center_x=float(x_min + x_max) / 2,
        center_y=float(y_min + y_max) / 2,
        width=side,
        height=side,
        rotation=rotation,
    )


def crop_matrix(roi: FaceRoi, size: int = INPUT_SIZE) -> np.ndarray:
    """2x3 affine mapping crop pixels -> image pixels (use with WARP_INVERSE_MAP).

    The ROI's corners land on crop pixels 0 and `size`, as in MediaPipe's OpenCV
    ImageToTensor converter (getPerspectiveTransform of cv::boxPoints).
    """
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    sx, sy = roi.width / size, roi.height / size
    return np.array(
        [
            [cos * sx, -sin * sy, roi.center_x - cos * roi.width / 2 + sin * roi.height / 2],
            [sin * sx, cos * sy, roi.center_y - sin * roi.width / 2 - cos * roi.height / 2],
        ],
        dtype=np.float64,
    )


def project_landmarks(
    raw: np.ndarray, roi: FaceRoi, image_width: int, image_height: int, size: int = INPUT_SIZE
) -> np.ndarray:
    """(478, 3) model output in crop pixels -> image pixels (LandmarkProjectionCalculator).

    z: MediaPipe scales it by the length of the crop's x axis measured in *normalised* image
    units (its projection-matrix path), i.e. ROI width * sqrt(cos^2 + (W/H)^2 sin^2), not by
    the ROI width in pixels; the two differ by up to a few % for a tilted face in a non-square
    image. We follow MediaPipe so z matches its output (and its head pose) exactly.
    """
    u = raw[:, 0] / size - 0.5
    v = raw[:, 1] / size - 0.5
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    aspect = image_width / image_height
    z_scale = roi.width * math.sqrt(cos * cos + (aspect * sin) ** 2) / size
    out = np.empty(raw.shape, dtype=np.float32)
    out[:, 0] = (cos * u - sin * v) * roi.width + roi.center_x
    out[:, 1] = (sin * u + cos * v) * roi.height + roi.center_y
    out[:, 2] = raw[:, 2] * z_scale
    return out


def _centre_inside(box: tuple[float, ...], other: tuple[float, ...]) -> bool:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return other[0] <= cx <= other[0] + other[2] and other[1] <= cy <= other[1] + other[3]


def crop_faces(image: np.ndarray, rois: list[FaceRoi]) -> np.ndarray:
    """(N, 256, 256, 3) float32 landmarks-model input in [0, 1]: one rotated warp per face."""
    crops = np.empty((len(rois), INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    for crop, roi in zip(crops, rois, strict=True):
        cv2.warpAffine(
            image,
            crop_matrix(roi),
            (INPUT_SIZE, INPUT_SIZE),
            dst=crop,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
    # Warp in uint8 then scale, like MediaPipe's ImageToTensorCalculator (same rounding).
    return np.multiply(crops, np.float32(1.0 / 255.0), dtype=np.float32)


def landmarks_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    x_min, y_min = landmarks[:, :2].min(axis=0)
    x_max, y_max = landmarks[:, :2].max(axis=0)
    return float(x_min), float(y_min), float(x_max - x_min), float(y_max - y_min)


class FaceLandmarker:
    def __init__(
        self,
        runtime: InferenceRuntime,
        min_detection_confidence: float = DEFAULT_MIN_DETECTION_CONFIDENCE,
        min_presence_confidence: float = DEFAULT_MIN_PRESENCE_CONFIDENCE,
        max_image_side: int | None = DEFAULT_MAX_IMAGE_SIDE,
        model_dir: Path | None = None,
    ) -> None:
        if not 0.0 <= min_presence_confidence <= 1.0:
            raise ValueError("min_presence_confidence must be in [0, 1]")
        self._runtime = runtime
        self._detector = FaceDetector(runtime, min_detection_confidence)
        self._min_presence = min_presence_confidence
        self._max_side = max_image_side
        self._pose = HeadPoseEstimator(load_canonical_face_model(model_dir))

    @property
    def detector(self) -> FaceDetector:
        return self._detector

    def detect(
        self,
        image_rgb: np.ndarray,
        max_faces: int = 1,
        skip: Sequence[np.ndarray] = (),
        with_pose: bool = True,
    ) -> list[FaceLandmarks]:
        """Faces in an RGB uint8 (H, W, 3) image, largest (detector box) first, <= max_faces.
        `skip`: landmarks of faces already tracked; detections centred inside one of them are
        ignored (a tracker looking for faces that entered the frame)."""
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
            raise ValueError(
                f"expected RGB uint8 (H, W, 3), got {image_rgb.dtype} {image_rgb.shape}"
            )
        if max_faces < 1:
            raise ValueError("max_faces must be >= 1")
        image, factor = self._working_image(image_rgb)
        detections = self._detector.detect(image)
        if skip:
            boxes = [landmarks_box(p / np.float32(factor)) for p in skip]
            detections = [d for d in detections if not any(_centre_inside(d.box, b) for b in boxes)]
        if not detections:
            return []
        # MediaPipe keeps the top-scoring faces; for try-on the biggest faces matter more. The
        # detector's box decides both which faces are kept and their order, so max_faces=1
        # returns exactly the first face of a larger max_faces.
        detections.sort(key=lambda d: d.box[2] * d.box[3], reverse=True)
        rois = [roi_from_detection(d) for d in detections[:max_faces]]
        faces = self._faces(image_rgb, image, factor, rois, with_pose)
        return [f for f in faces if f is not None]

    def track(
        self, image_rgb: np.ndarray, previous: Sequence[np.ndarray], with_pose: bool = True
    ) -> list[FaceLandmarks | None]:
        """VIDEO mode: each face's landmarks in this frame, found from its landmarks in the
        previous frame (no detector run); None where the face was lost. One landmark-model
        call for all faces."""
        if not previous:
            return []
        image, factor = self._working_image(image_rgb)
        rois = [roi_from_landmarks(np.asarray(p) / np.float32(factor)) for p in previous]
        return self._faces(image_rgb, image, factor, rois, with_pose)

    def pose(self, landmarks: np.ndarray, width: int, height: int) -> HeadPose:
        return self._pose.estimate(landmarks, width, height)

    def _faces(
        self,
        image_rgb: np.ndarray,
        image: np.ndarray,
        factor: int,
        rois: list[FaceRoi],
        with_pose: bool,
    ) -> list[FaceLandmarks | None]:
        height, width = image_rgb.shape[:2]
        raw, presence = self._landmarks(image, rois)
        faces: list[FaceLandmarks | None] = []
        for roi, face_raw, score in zip(rois, raw, presence, strict=True):
            if score < self._min_presence:
                faces.append(None)
                continue
            points = project_landmarks(face_raw, roi, image.shape[1], image.shape[0])
            if factor != 1:
                # Pixel centres: small pixel i averages original pixels f*i .. f*i+f-1.
                points[:, :2] = (points[:, :2] + 0.5) * factor - 0.5
                points[:, 2] *= factor
            faces.append(
                FaceLandmarks(
                    landmarks=points,
                    box=landmarks_box(points),
                    confidence=float(score),
                    pose=self._pose.estimate(points, width, height) if with_pose else None,
                )
            )
        return faces

    def warm_up(self) -> None:
        """Runs both models once on blank input: a runtime allocates and picks kernels on its
        first call (~200 ms here), which must not land on a shopper's request."""
        self._detector.detect(np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8))
        self._infer_landmarks(np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), np.float32))

    def _working_image(self, image_rgb: np.ndarray) -> tuple[np.ndarray, int]:
        """The image to run on and its integer shrink factor (a power of 2)."""
        image, factor = image_rgb, 1
        while self._max_side and max(image.shape[:2]) > self._max_side:
            height, width = image.shape[:2]
            # Drop an odd last row/column so the area resize is an exact, fast 2x.
            even = image[: height - height % 2, : width - width % 2]
            image = cv2.resize(even, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
            factor *= 2
        return image, factor

    def _landmarks(self, image: np.ndarray, rois: list[FaceRoi]) -> tuple[np.ndarray, np.ndarray]:
        """Raw (N, 478, 3) landmarks in crop pixels and (N,) presence scores, one model call."""
        return self._infer_landmarks(crop_faces(image, rois))

    def _infer_landmarks(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        count = tensor.shape[0]
        outputs = self._runtime.infer(FACE_LANDMARKS_DETECTOR, {INPUT_NAME: tensor})
        raw = outputs[OUTPUT_LANDMARKS].reshape(count, NUM_LANDMARKS, 3)
        logits = outputs[OUTPUT_PRESENCE].reshape(count).astype(np.float64)
        return raw, 1.0 / (1.0 + np.exp(-logits))
