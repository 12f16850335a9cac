"""MediaPipe's canonical face model (built by `make models` into canonical_face_model.npz).

Vertex i is face-mesh landmark i. Coordinates in cm, right-handed: x towards the image right
for a face looking at the camera, y up, z out of the face towards the viewer. UVs in [0, 1]
with v growing downward (image convention): the makeup texture space.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

CANONICAL_MODEL_FILE = "canonical_face_model.npz"


def default_model_dir() -> Path:
    """`TRYON_MODEL_DIR`, else models/ at the repository root (built by `make models`)."""
    return Path(os.environ.get("TRYON_MODEL_DIR", Path(__file__).resolve().parents[1] / "models"))


NUM_VERTICES = 468
NUM_TRIANGLES = 898


@dataclass(frozen=True)
class CanonicalFaceModel:
    vertices: np.ndarray  # (468, 3) float32, cm
    uv: np.ndarray  # (468, 2) float32
    triangles: np.ndarray  # (898, 3) int32
    procrustes_landmark_ids: np.ndarray  # (K,) int32: expression-stable landmarks for pose
    procrustes_landmark_weights: np.ndarray  # (K,) float32


@cache
def load_canonical_face_model(model_dir: Path | None = None) -> CanonicalFaceModel:
    """Loaded once per process (arrays are read-only)."""
    path = Path(model_dir or default_model_dir()) / CANONICAL_MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make models` to build it")
    with np.load(path) as data:
        arrays = {
            name: np.array(data[name])
            for name in (
                "vertices",
                "uv",
                "triangles",
                "procrustes_landmark_ids",
                "procrustes_landmark_weights",
            )
        }
    for array in arrays.values():
        array.flags.writeable = False
    model = CanonicalFaceModel(**arrays)
    if model.vertices.shape != (NUM_VERTICES, 3) or model.triangles.shape != (NUM_TRIANGLES, 3):
        raise ValueError(
            f"{path}: unexpected shapes {model.vertices.shape}, {model.triangles.shape}"
        )
    return model
