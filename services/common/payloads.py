"""Typed task payloads: what travels on the Celery queues and back on the reply keys.

Images never travel here: they are Redis keys (see `redis_keys`). Arrays travel as base64 of
little-endian float32, which is ~10x smaller and faster to parse than JSON lists of floats.
"""

from __future__ import annotations

import base64
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from services.common.errors import ErrorCode, TryonError

NUM_LANDMARKS = 478


def encode_f32(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def decode_f32(text: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(shape)


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskEnvelope(_Payload):
    """Fields every interactive task carries."""

    request_id: str
    tenant: str
    # The gateway BLPOPs this key; the worker pushes exactly one TaskReply there.
    reply_key: str


class ReconstructTask(TaskEnvelope):
    face_id: str
    max_faces: int = Field(ge=1)


class SkinToneResult(_Payload):
    lab: tuple[float, float, float]
    hex: str
    ita_degrees: float
    monk_bucket: int = Field(ge=1, le=10)
    undertone: Literal["cool", "neutral", "warm"]
    confidence: float


class FaceResult(_Payload):
    landmarks_f32: str  # (478, 3) float32, original-image pixels
    pose_matrix_f32: str  # (4, 4) float32, row-major
    pitch: float
    yaw: float
    roll: float
    box: tuple[float, float, float, float]  # x_min, y_min, width, height
    confidence: float
    skin_tone: SkinToneResult | None

    def landmarks(self) -> np.ndarray:
        return decode_f32(self.landmarks_f32, (NUM_LANDMARKS, 3))

    def pose_matrix(self) -> np.ndarray:
        return decode_f32(self.pose_matrix_f32, (4, 4))


class FaceGeometryResult(_Payload):
    face_id: str
    image_width: int
    image_height: int
    faces: list[FaceResult]


class TaskFailure(_Payload):
    code: ErrorCode
    message: str

    def to_error(self) -> TryonError:
        return TryonError(self.code, self.message)


class TaskReply(_Payload):
    """Exactly one of `geometry` and `error` is set."""

    geometry: FaceGeometryResult | None = None
    error: TaskFailure | None = None
    cache_hit: bool = False
