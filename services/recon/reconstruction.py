"""Decoded image in, face geometry out: landmarks, pose, box and skin tone for every face, in
original-image pixels. Pure computation (no Redis, no Celery) so tests and benchmarks can call
exactly what the worker runs."""

from __future__ import annotations

import numpy as np

from services.common.image_codec import DecodedImage
from services.common.payloads import FaceResult, SkinToneResult, encode_f32
from services.recon.face_landmarker import FaceLandmarker, FaceLandmarks
from services.recon.skin_tone import measure_skin_tone


def _to_original(face: FaceLandmarks, scale: float) -> tuple[np.ndarray, tuple[float, ...]]:
    """From decoded pixels back to the caller's pixels (decode may have been reduced)."""
    if scale == 1.0:
        return face.landmarks, tuple(face.box)
    inv = 1.0 / scale
    return face.landmarks * np.float32(inv), tuple(v * inv for v in face.box)


def face_result(
    face: FaceLandmarks, skin_tone: SkinToneResult | None = None, scale: float = 1.0
) -> FaceResult:
    """One face as the payloads carry it, in the caller's pixels (a photo's skin tone, or none
    for a video frame; a face without pose gets the identity)."""
    landmarks, box = _to_original(face, scale)
    pose = face.pose
    return FaceResult(
        landmarks_f32=encode_f32(landmarks),
        pose_matrix_f32=encode_f32(pose.matrix if pose is not None else np.eye(4)),
        pitch=float(pose.pitch) if pose is not None else 0.0,
        yaw=float(pose.yaw) if pose is not None else 0.0,
        roll=float(pose.roll) if pose is not None else 0.0,
        box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
        confidence=float(face.confidence),
        skin_tone=skin_tone,
    )


def reconstruct_faces(
    landmarker: FaceLandmarker, image: DecodedImage, max_faces: int
) -> list[FaceResult]:
    faces = landmarker.detect(image.rgb, max_faces=max_faces)
    # The API promises largest first by the returned box (from the landmarks), which can
    # order near-equal faces differently from the detector's boxes.
    faces.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
    results = []
    for face in faces:
        tone = measure_skin_tone(image.rgb, face.landmarks)
        skin = SkinToneResult(
            lab=(float(tone.lab[0]), float(tone.lab[1]), float(tone.lab[2])),
            hex=tone.hex,
            ita_degrees=float(tone.ita_degrees),
            monk_bucket=int(tone.monk_bucket),
            undertone=tone.undertone,
            confidence=float(tone.confidence),
        )
        results.append(face_result(face, skin, image.scale))
    return results
