"""Task results (services.common.payloads) to API messages (tryon.v1)."""

from __future__ import annotations

from services.common.payloads import (
    FaceGeometryResult,
    FaceResult,
    SkinToneResult,
    StreamFaceResult,
)
from tryon.v1 import types_pb2

UNDERTONE_ENUMS = {
    "cool": types_pb2.UNDERTONE_COOL,
    "neutral": types_pb2.UNDERTONE_NEUTRAL,
    "warm": types_pb2.UNDERTONE_WARM,
}


def skin_tone_proto(tone: SkinToneResult) -> types_pb2.SkinTone:
    return types_pb2.SkinTone(
        lab_l=tone.lab[0],
        lab_a=tone.lab[1],
        lab_b=tone.lab[2],
        hex=tone.hex,
        ita_degrees=tone.ita_degrees,
        monk_bucket=tone.monk_bucket,
        undertone=UNDERTONE_ENUMS[tone.undertone],
        confidence=tone.confidence,
    )


def face_proto(face: FaceResult | StreamFaceResult) -> types_pb2.Face:
    msg = types_pb2.Face(confidence=face.confidence)
    msg.landmarks.extend(types_pb2.Point3(x=x, y=y, z=z) for x, y, z in face.landmarks().tolist())
    msg.pose.matrix.extend(face.pose_matrix().ravel().tolist())
    msg.pose.pitch, msg.pose.yaw, msg.pose.roll = face.pitch, face.yaw, face.roll
    msg.box.x_min, msg.box.y_min, msg.box.width, msg.box.height = face.box
    if isinstance(face, FaceResult) and face.skin_tone is not None:
        msg.skin_tone.CopyFrom(skin_tone_proto(face.skin_tone))
    return msg


def stream_face_proto(face: StreamFaceResult) -> types_pb2.Face:
    """A stream frame's face: no skin tone (measured on photos, not per frame)."""
    return face_proto(face)


def geometry_proto(geometry: FaceGeometryResult, expires_in_s: int) -> types_pb2.FaceGeometry:
    msg = types_pb2.FaceGeometry(
        face_id=geometry.face_id,
        image_width=geometry.image_width,
        image_height=geometry.image_height,
        expires_in_seconds=max(expires_in_s, 0),
    )
    msg.faces.extend(face_proto(face) for face in geometry.faces)
    return msg
