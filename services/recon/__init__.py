"""Recon service: face detection, dense 3D face mesh (478 landmarks), pose and skin tone.

Public API (the render service's try-on engine runs these in process; nothing else of recon
is imported outside it). Loaded on first use: the worker entry point must set up Prometheus's
multiprocess directory before any metric module is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "FaceLandmarker": "services.recon.face_landmarker",
    "FaceLandmarks": "services.recon.face_landmarker",
    "HeadPose": "services.recon.head_pose",
    "TimedRuntime": "services.recon.metrics",
    "reconstruct_faces": "services.recon.reconstruction",
    "face_result": "services.recon.reconstruction",
    "landmarks_box": "services.recon.face_landmarker",
    "InferenceRuntime": "services.recon.runtime",
    "create_runtime": "services.recon.runtime",
}

if TYPE_CHECKING:
    from services.recon.face_landmarker import FaceLandmarker, FaceLandmarks, landmarks_box
    from services.recon.head_pose import HeadPose
    from services.recon.metrics import TimedRuntime
    from services.recon.reconstruction import face_result, reconstruct_faces
    from services.recon.runtime import InferenceRuntime, create_runtime

__all__ = [
    "FaceLandmarker",
    "FaceLandmarks",
    "HeadPose",
    "InferenceRuntime",
    "TimedRuntime",
    "create_runtime",
    "face_result",
    "landmarks_box",
    "reconstruct_faces",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'services.recon' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
