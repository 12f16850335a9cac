"""The 478-point face mesh as the iBUG 300-W 68-point layout (dlib's shape_predictor order).

Each of the 68 points is the mean of one or two mesh vertices. Sources, both widely used public
correspondences:
* points 17-67 (brows, nose, eyes, lips): the table of github.com/PeizhiYan/
  Mediapipe_2_Dlib_Landmarks (mp2dlib.py, 2024);
* points 0-16 (jaw): the face-oval vertex chain 127 234 132 58 172 150 149 148 152 377 378 379
  397 288 361 454 356 found in several public "MediaPipe 468 -> dlib 68" maps (LM68_FACE, the
  face_alignment converters). PeizhiYan's own jaw (93, 136, 176, 400, 365, 323, ...) sits further
  inside the cheek: on MediaPipe's own landmarks against the dlib/mexopencv 68-point annotations
  it gave a jaw error of 12.6% vs 9.8% of the inter-ocular distance (overall NME 6.7% vs 6.0%).
Checked by drawing the 68 points on a 300 px face (each index where iBUG puts it) and by NME
against the annotated test frames (tests/recon/test_landmarks68.py).

What does not line up, by definition rather than by error: iBUG's jaw is the visible 2D
outline, the mesh's face oval a fixed set of 3D vertices that slides along it as the head turns;
the brows are points on a wide band that annotators place differently. Measured on MediaPipe's
own landmarks (13 faces): jaw ~10%, brows ~7%, nose ~5%, eyes and lips ~4% of the inter-ocular
distance per point.

Indices are 0-based on both sides (iBUG's 1-based point k is row k-1 here).
"""

from __future__ import annotations

from typing import Final

import numpy as np

# Row i: the mesh vertices whose mean is iBUG point i (0-based).
# fmt: off
MESH_TO_IBUG68: Final[tuple[tuple[int, ...], ...]] = (
    # jaw (0-16): subject's right ear (image left) -> chin (8) -> left ear
    (127,), (234,), (132,), (58,), (172,), (150,), (149,), (148,), (152,),
    (377,), (378,), (379,), (397,), (288,), (361,), (454,), (356,),
    # right brow (17-21), outer -> inner
    (70,), (63,), (105,), (66,), (107,),
    # left brow (22-26), inner -> outer
    (336,), (296,), (334,), (293,), (300,),
    # nose bridge (27-30), top -> tip
    (168, 6), (197, 195), (5,), (4,),
    # nostrils / nose base (31-35), right -> left
    (75,), (97,), (2,), (326,), (305,),
    # right eye (36-41): outer corner, upper lid x2, inner corner, lower lid x2
    (33,), (160,), (158,), (133,), (153,), (144,),
    # left eye (42-47): inner corner, upper lid x2, outer corner, lower lid x2
    (362,), (385,), (387,), (263,), (373,), (380,),
    # outer lip (48-59): right corner, upper lip -> left corner, lower lip back
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    # inner lip (60-67): right corner, upper -> left corner, lower back
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
)
# fmt: on

# The 300-W normalisation: inter-ocular distance between the outer eye corners.
IBUG_RIGHT_EYE_OUTER: Final[int] = 36
IBUG_LEFT_EYE_OUTER: Final[int] = 45

# Point groups, for per-region error reports.
IBUG68_REGIONS: Final[dict[str, range]] = {
    "jaw": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}

# Two index columns (single vertices repeated) so the mapping is one fancy-indexing mean.
_PAIRS: Final[np.ndarray] = np.array([(row[0], row[-1]) for row in MESH_TO_IBUG68], dtype=np.intp)
assert _PAIRS.shape == (68, 2)


def mesh_to_ibug68(landmarks: np.ndarray) -> np.ndarray:
    """(N>=468, D) mesh landmarks -> (68, D) iBUG 300-W points, same units and dtype."""
    if landmarks.ndim != 2 or landmarks.shape[0] < 468:
        raise ValueError(f"expected (478, D) mesh landmarks, got {landmarks.shape}")
    return landmarks[_PAIRS].mean(axis=1).astype(landmarks.dtype, copy=False)


def interocular(points68: np.ndarray) -> float:
    """Outer-eye-corner distance of 68 points (2D)."""
    d = points68[IBUG_RIGHT_EYE_OUTER, :2] - points68[IBUG_LEFT_EYE_OUTER, :2]
    return float(np.hypot(d[0], d[1]))


def nme(pred68: np.ndarray, truth68: np.ndarray) -> float:
    """Mean 2D point error normalised by the truth's inter-ocular distance (300-W)."""
    err = np.linalg.norm(pred68[:, :2] - truth68[:, :2], axis=1)
    return float(err.mean() / interocular(truth68))
