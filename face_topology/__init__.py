"""MediaPipe's 478-point face topology, shared by the client (`tryon`) and the services.

One copy, imported by both (the workers must not import the client package to get it):
* `face_topology.mesh`: mesh connections, named regions and ordered loops (LIPS_INNER_LOOP,
  LEFT_EYE_LOOP, ...), named landmarks;
* `face_topology.canonical_model`: MediaPipe's canonical face model (vertices, UVs, triangles),
  loaded from models/canonical_face_model.npz (built by `make models`);
* `face_topology.ibug68`: the mesh as the iBUG 300-W 68-point layout.

Everything in `mesh.__all__` is re-exported here, with the canonical model and iBUG-68 API.
"""

from face_topology import canonical_model, ibug68, mesh
from face_topology.canonical_model import (
    CANONICAL_MODEL_FILE,
    NUM_TRIANGLES,
    NUM_VERTICES,
    CanonicalFaceModel,
    default_model_dir,
    load_canonical_face_model,
)
from face_topology.ibug68 import IBUG68_REGIONS, MESH_TO_IBUG68, interocular, mesh_to_ibug68, nme
from face_topology.mesh import *  # noqa: F403 (re-export: the names in mesh.__all__)

__all__ = [
    "canonical_model",
    "ibug68",
    "mesh",
    "CANONICAL_MODEL_FILE",
    "NUM_TRIANGLES",
    "NUM_VERTICES",
    "CanonicalFaceModel",
    "default_model_dir",
    "load_canonical_face_model",
    "IBUG68_REGIONS",
    "MESH_TO_IBUG68",
    "interocular",
    "mesh_to_ibug68",
    "nme",
]
__all__ += mesh.__all__
