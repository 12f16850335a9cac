"""Where each product goes, as MediaPipe face-mesh landmark indices (the subject's RIGHT side).

The texture builder (`uv_textures`) mirrors every right-side list onto the left through the
canonical face model's symmetry, so each zone is written once. Index rings around the eye are
MediaPipe's own named keypoint groups (rightEyeUpper0..2, rightEyeLower0..3 in its face-mesh
annotations); "right" is the subject's right, the image's left in an unmirrored photo.
"""

from __future__ import annotations

from face_topology import (
    LIPS_INNER_LOOP,
    LIPS_OUTER_LOOP,
    RIGHT_EYE_INNER_CORNER,
    RIGHT_EYE_OUTER_CORNER,
    RIGHT_EYEBROW_LOOP,
)

__all__ = [
    "BROW_LOOP",
    "CHEEK_APPLE",
    "CHEEKBONE_TOP",
    "CONTOUR_LINE",
    "CUPIDS_BOW",
    "EYE_INNER_CORNER",
    "EYE_LOWER_0",
    "EYE_LOWER_2",
    "EYE_LOWER_3",
    "EYE_OUTER_CORNER",
    "EYE_UPPER_0",
    "EYE_UPPER_1",
    "EYE_UPPER_2",
    "JAW_LINE",
    "LIPS_INNER_LOOP",
    "LIPS_OUTER_LOOP",
    "NOSE_BRIDGE",
    "TEMPLE",
]

EYE_OUTER_CORNER = RIGHT_EYE_OUTER_CORNER  # 33
EYE_INNER_CORNER = RIGHT_EYE_INNER_CORNER  # 133
# Upper lid margin (lash line), outer -> inner, without the corners.
EYE_UPPER_0 = (246, 161, 160, 159, 158, 157, 173)
# The next two rings up: the lid's upper half, and the crease below the brow bone.
EYE_UPPER_1 = (247, 30, 29, 27, 28, 56, 190)
EYE_UPPER_2 = (113, 225, 224, 223, 222, 221, 189)
# Lower lid margin with both corners, outer -> inner, then two rings down (under-eye).
EYE_LOWER_0 = (33, 7, 163, 144, 145, 153, 154, 155, 133)
EYE_LOWER_2 = (226, 31, 228, 229, 230, 231, 232, 233, 244)
EYE_LOWER_3 = (143, 111, 117, 118, 119, 120, 121, 128, 245)

BROW_LOOP = RIGHT_EYEBROW_LOOP

# Apple of the cheek (blush), the top of the cheekbone (highlighter), the hollow under it
# (contour: from the ear towards the mouth corner), temples and jaw (bronzer).
CHEEK_APPLE = (205, 50, 118, 101)
CHEEKBONE_TOP = (117, 118, 111, 116)
CONTOUR_LINE = (234, 93, 137, 177, 215)
TEMPLE = (162, 21, 54, 127)
JAW_LINE = (132, 58, 172, 136, 150)
NOSE_BRIDGE = (168, 6, 197, 195)
CUPIDS_BOW = (0, 37, 267)
