"""BlazeFace short-range face detector, decoded as MediaPipe's FaceDetectorGraph does.

Options are MediaPipe's (mediapipe/tasks/cc/vision/face_detector/face_detector_graph.cc):
letterboxed 128x128 input in [-1, 1] with zero borders; 896 SSD anchors; boxes and 6 keypoints
scaled by 128; sigmoid score with logits clipped to +-100; threshold; weighted NMS (IoU 0.3);
projection out of the letterbox.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from services.recon.runtime import FACE_DETECTOR, InferenceRuntime
from services.recon.ssd_anchors import generate_anchors

INPUT_SIZE = 128
INPUT_NAME = "image"
OUTPUT_REGRESSORS = "regressors"
OUTPUT_CLASSIFICATORS = "classificators"
NUM_KEYPOINTS = 6
KEYPOINT_OFFSET = 4  # regressor layout: x, y, w, h, then (x, y) per keypoint
COORD_SCALE = 128.0  # x/y/w/h_scale
SCORE_CLIPPING = 100.0
DEFAULT_MIN_DETECTION_CONFIDENCE = 0.5
DEFAULT_MIN_SUPPRESSION_THRESHOLD = 0.3
# [0, 255] -> [-1, 1], applied after the uint8 warp like MediaPipe's ImageToTensorCalculator.
INPUT_SCALE = 2.0 / 255.0
INPUT_OFFSET = -1.0


class Keypoint:
    """Indices of the 6 BlazeFace keypoints (left/right as seen in the image)."""

    EYE_IMAGE_LEFT = 0  # the subject's right eye
    EYE_IMAGE_RIGHT = 1
    NOSE_TIP = 2
    MOUTH_CENTER = 3
    EAR_IMAGE_LEFT = 4
    EAR_IMAGE_RIGHT = 5


@dataclass(frozen=True)
class FaceDetection:
    """One face in original-image pixels."""

    box: tuple[float, float, float, float]  # x_min, y_min, width, height
    keypoints: np.ndarray  # (6, 2) float32, x/y pixels
    score: float


def letterbox_matrix(width: int, height: int, size: int) -> np.ndarray:
    """2x3 affine: image pixels -> `size`-px square letterbox (the image centred, aspect kept)."""
    side = max(width, height)
    scale = size / side
    return np.array(
        [[scale, 0.0, (side - width) / 2 * scale], [0.0, scale, (side - height) / 2 * scale]],
        dtype=np.float64,
    )


def weighted_nms(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's WEIGHTED non-max suppression.

    boxes (N, 4) as x_min, y_min, x_max, y_max. The best remaining detection absorbs every
    detection overlapping it by IoU > threshold (itself included); the output box and keypoints
    are the score-weighted means of that cluster, the score is the best one's.
    """
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    results: list[tuple[np.ndarray, np.ndarray, float]] = []
    while order.size:
        best = order[0]
        inter_w = np.minimum(boxes[order, 2], boxes[best, 2]) - np.maximum(
            boxes[order, 0], boxes[best, 0]
        )
        inter_h = np.minimum(boxes[order, 3], boxes[best, 3]) - np.maximum(
            boxes[order, 1], boxes[best, 1]
        )
        inter = np.clip(inter_w, 0, None) * np.clip(inter_h, 0, None)
        union = areas[order] + areas[best] - inter
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
        in_cluster = iou > iou_threshold
        in_cluster[0] = True  # the best one always absorbs itself (even with a zero area)
        cluster = order[in_cluster]
        weights = scores[cluster][:, None]
        total = weights.sum()
        box = (boxes[cluster] * weights).sum(axis=0) / total
        points = (keypoints[cluster] * weights[:, :, None]).sum(axis=0) / total
        results.append((box, points, float(scores[best])))
        order = order[~in_cluster]
    return results


class FaceDetector:
    """Finds faces; `detect` returns them by descending score, in original-image pixels."""

    def __init__(
        self,
        runtime: InferenceRuntime,
        min_detection_confidence: float = DEFAULT_MIN_DETECTION_CONFIDENCE,
        min_suppression_threshold: float = DEFAULT_MIN_SUPPRESSION_THRESHOLD,
    ) -> None:
        if not 0.0 <= min_detection_confidence <= 1.0:
            raise ValueError("min_detection_confidence must be in [0, 1]")
        self._runtime = runtime
        self._min_score = min_detection_confidence
        self._iou_threshold = min_suppression_threshold
        anchors = generate_anchors()
        self._anchor_centers = anchors[:, :2]
        self._anchor_sizes = anchors[:, 2:]

    def preprocess(self, image_rgb: np.ndarray) -> np.ndarray:
        """(1, 128, 128, 3) float32 letterboxed tensor."""
        height, width = image_rgb.shape[:2]
        letterboxed = cv2.warpAffine(
            image_rgb,
            letterbox_matrix(width, height, INPUT_SIZE),
            (INPUT_SIZE, INPUT_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        tensor = np.multiply(letterboxed[None], np.float32(INPUT_SCALE), dtype=np.float32)
        tensor += np.float32(INPUT_OFFSET)
        return tensor

    def detect(self, image_rgb: np.ndarray) -> list[FaceDetection]:
        outputs = self._runtime.infer(FACE_DETECTOR, {INPUT_NAME: self.preprocess(image_rgb)})
        height, width = image_rgb.shape[:2]
        return self.postprocess(
            outputs[OUTPUT_REGRESSORS][0], outputs[OUTPUT_CLASSIFICATORS][0, :, 0], width, height
        )

    def postprocess(
        self, regressors: np.ndarray, logits: np.ndarray, width: int, height: int
    ) -> list[FaceDetection]:
        # float64: exp(100) overflows float32.
        logits = np.clip(logits.astype(np.float64), -SCORE_CLIPPING, SCORE_CLIPPING)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = np.flatnonzero(scores >= self._min_score)
        if keep.size == 0:
            return []
        raw = regressors[keep].astype(np.float64)
        centers = self._anchor_centers[keep].astype(np.float64)
        sizes = self._anchor_sizes[keep].astype(np.float64)
        box_center = raw[:, 0:2] / COORD_SCALE * sizes + centers
        box_size = raw[:, 2:4] / COORD_SCALE * sizes
        boxes = np.concatenate([box_center - box_size / 2, box_center + box_size / 2], axis=1)
        points = raw[:, KEYPOINT_OFFSET : KEYPOINT_OFFSET + 2 * NUM_KEYPOINTS].reshape(
            -1, NUM_KEYPOINTS, 2
        )
        points = points / COORD_SCALE * sizes[:, None, :] + centers[:, None, :]
        # Out of the letterbox: normalised letterbox coords -> original pixels.
        side = max(width, height)
        offset = np.array([(width - side) / 2, (height - side) / 2])
        detections = []
        for box, kps, score in weighted_nms(boxes, points, scores[keep], self._iou_threshold):
            x_min, y_min = box[:2] * side + offset
            box_w, box_h = (box[2:] - box[:2]) * side
            detections.append(
                FaceDetection(
                    box=(float(x_min), float(y_min), float(box_w), float(box_h)),
                    keypoints=(kps * side + offset).astype(np.float32),
                    score=score,
                )
            )
        return detections
