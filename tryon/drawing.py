"""Draw a reconstructed face on its image (like MediaPipe's drawing_utils), for demos and
debugging."""

from __future__ import annotations

import cv2
import numpy as np

from face_topology import mesh as face_mesh

_MESH_BGR = (192, 192, 192)
_CONTOUR_BGR = (48, 255, 48)
_IRIS_BGR = (255, 160, 48)
_SHIFT = 4  # sub-pixel precision for cv2 drawing (coordinates x 16)


def _segments(points: np.ndarray, edges) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    scaled = np.round(points[:, :2] * (1 << _SHIFT)).astype(np.int32)
    return [scaled[[a, b]] for a, b in edges]


def draw_face_mesh(bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Returns a copy of the BGR image with the tesselation, contours and irises drawn."""
    out = bgr.copy()
    scale = max(1, round(max(np.ptp(landmarks[:, 0]), np.ptp(landmarks[:, 1])) / 400))
    cv2.polylines(
        out,
        _segments(landmarks, face_mesh.FACE_MESH_TESSELATION),
        False,
        _MESH_BGR,
        scale,
        cv2.LINE_AA,
        _SHIFT,
    )
    contours = face_mesh.CONTOURS
    cv2.polylines(
        out, _segments(landmarks, contours), False, _CONTOUR_BGR, scale + 1, cv2.LINE_AA, _SHIFT
    )
    irises = face_mesh.IRISES
    cv2.polylines(
        out, _segments(landmarks, irises), False, _IRIS_BGR, scale + 1, cv2.LINE_AA, _SHIFT
    )
    return out
