"""Head pose: the transform from MediaPipe's canonical face model to the camera.

A port of MediaPipe's face geometry pipeline (mediapipe/tasks/cc/vision/face_geometry/libs/
geometry_pipeline.cc + procrustes_solver.cc), so `matrix` equals the FaceLandmarker's
`facial_transformation_matrixes`:
  screen landmarks -> near plane of a perspective camera (vertical FOV 63 deg, near 1 cm)
  -> two passes of weighted orthogonal Procrustes on the canonical model's 33 basis landmarks
  (chosen by MediaPipe to follow the head, not expressions) to estimate the face's scale and
  depth -> unprojected metric landmarks -> final weighted Procrustes = pose.
It uses the landmarks' z (relative depth), which pins pitch far better than a 2D PnP fit
(solvePnP on the same points was 10-20 degrees off MediaPipe in pitch on our portraits).

Conventions (MediaPipe's):
- camera space is OpenGL-style, right-handed: x to the image right, y up, z towards the viewer;
  the face sits at negative z. The true focal length of a photo is unknown, so the distance
  (translation z, cm) is an estimate under the 63-degree assumption.
- `matrix` is 4x4, row-major: p_cam = matrix[:3, :3] @ p_model + matrix[:3, 3] (cm). Its 3x3
  block is rotation times a scale close to 1 (Procrustes fits scale too); `rotation` is the
  pure rotation. A frontal face has rotation ~ identity.
- Euler angles, degrees, rotation = Rz(roll) @ Ry(yaw) @ Rx(pitch), each right-handed about a
  camera axis:
    pitch > 0: the face tilts down (nods, nose towards the chin side);
    yaw > 0: the face turns towards the image right (the subject's left);
    roll > 0: the head tilts counter-clockwise as seen in the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from face_topology import NUM_VERTICES, CanonicalFaceModel

VERTICAL_FOV_DEGREES = 63.0
NEAR_CM = 1.0


@dataclass(frozen=True)
class HeadPose:
    matrix: np.ndarray  # (4, 4) float64, canonical model (cm) -> camera (cm), row-major
    pitch: float  # degrees
    yaw: float
    roll: float

    @property
    def scale(self) -> float:
        return float(np.linalg.norm(self.matrix[:3, 0]))

    @property
    def rotation(self) -> np.ndarray:
        return self.matrix[:3, :3] / self.scale

    @property
    def translation_cm(self) -> np.ndarray:
        return self.matrix[:3, 3]


def euler_from_rotation(rotation: np.ndarray) -> tuple[float, float, float]:
    """(pitch, yaw, roll) in degrees for rotation = Rz(roll) @ Ry(yaw) @ Rx(pitch)."""
    pitch = math.atan2(rotation[2, 1], rotation[2, 2])
    yaw = math.asin(max(-1.0, min(1.0, -rotation[2, 0])))
    roll = math.atan2(rotation[1, 0], rotation[0, 0])
    return math.degrees(pitch), math.degrees(yaw), math.degrees(roll)


def weighted_procrustes(source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """4x4 similarity (scale * rotation, translation) best mapping source (3, N) to target.

    MediaPipe's FloatPrecisionProcrustesSolver (Akca 2003, section 2.4), reflections excluded.
    """
    sqrt_w = np.sqrt(weights)
    src_w = source * sqrt_w
    dst_w = target * sqrt_w
    total = float(weights.sum())
    center = (src_w * sqrt_w).sum(axis=1) / total
    src_centered = src_w - np.outer(center, sqrt_w)
    u, _, vt = np.linalg.svd(dst_w @ src_centered.T)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        u[:, 2] *= -1.0
    rotation = u @ vt
    scale = float(((rotation @ src_centered) * dst_w).sum() / (src_centered * src_w).sum())
    rotation_scale = scale * rotation
    translation = ((dst_w - rotation_scale @ src_w) * sqrt_w).sum(axis=1) / total
    matrix = np.eye(4)
    matrix[:3, :3] = rotation_scale
    matrix[:3, 3] = translation
    return matrix


class HeadPoseEstimator:
    def __init__(
        self,
        model: CanonicalFaceModel,
        vertical_fov_degrees: float = VERTICAL_FOV_DEGREES,
        near: float = NEAR_CM,
    ) -> None:
        self._ids = np.asarray(model.procrustes_landmark_ids, dtype=np.intp)
        self._weights = np.asarray(model.procrustes_landmark_weights, dtype=np.float64)
        self._canonical = np.asarray(model.vertices[self._ids], dtype=np.float64).T  # (3, K)
        self._height_at_near = 2.0 * near * math.tan(math.radians(vertical_fov_degrees) / 2)
        self._near = near

    def estimate(self, landmarks: np.ndarray, width: int, height: int) -> HeadPose:
        """landmarks: (>=468, 3) in pixels of a width x height image, z in x's pixel scale."""
        if landmarks.shape[0] < NUM_VERTICES or landmarks.shape[1] != 3:
            raise ValueError(f"expected (>=468, 3) landmarks, got {landmarks.shape}")
        width_at_near = width * self._height_at_near / height
        # Depth offset: mean z over the whole mesh, as MediaPipe computes it.
        depth_offset = float(landmarks[:NUM_VERTICES, 2].mean()) / width * width_at_near
        points = landmarks[self._ids].T.astype(np.float64)  # (3, K) pixels
        # ProjectXY onto the near plane (origin top-left, so y flips); z scales like x.
        screen = np.empty_like(points)
        screen[0] = points[0] / width * width_at_near - width_at_near / 2
        screen[1] = (1.0 - points[1] / height) * self._height_at_near - self._height_at_near / 2
        screen[2] = points[2] / width * width_at_near

        # Pass 1: scale from the flat projection (z is only relative: unsafe to unproject).
        flat = screen * np.array([[1.0], [1.0], [-1.0]])
        first_scale = self._scale(flat)
        second_scale = self._scale(self._unproject(screen, depth_offset, first_scale))
        metric = self._unproject(screen, depth_offset, first_scale * second_scale)
        matrix = weighted_procrustes(self._canonical, metric, self._weights)
        rotation = matrix[:3, :3] / np.linalg.norm(matrix[:3, 0])
        pitch, yaw, roll = euler_from_rotation(rotation)
        return HeadPose(matrix=matrix, pitch=pitch, yaw=yaw, roll=roll)

    def _scale(self, target: np.ndarray) -> float:
        return float(
            np.linalg.norm(weighted_procrustes(self._canonical, target, self._weights)[:3, 0])
        )

    def _unproject(self, screen: np.ndarray, depth_offset: float, scale: float) -> np.ndarray:
        """MoveAndRescaleZ + UnprojectXY + ChangeHandedness."""
        out = np.empty_like(screen)
        depth = (screen[2] - depth_offset + self._near) / scale
        out[0] = screen[0] * depth / self._near
        out[1] = screen[1] * depth / self._near
        out[2] = -depth
        return out
