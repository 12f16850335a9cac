"""The shared face topology package: its public API, the canonical model, and that the workers
get topology from it rather than from the client package (`tryon`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import face_topology

ROOT = Path(__file__).resolve().parents[1]


def test_public_api_loads() -> None:
    for name in face_topology.__all__:
        assert hasattr(face_topology, name), name
    assert face_topology.NUM_LANDMARKS == 478
    assert len(face_topology.LIPS_INNER_LOOP) > 3
    if "TRYON_MODEL_DIR" not in os.environ:  # models/ at the repository root, as before the move
        assert face_topology.default_model_dir() == ROOT / "models"


def test_canonical_model() -> None:
    model = face_topology.load_canonical_face_model()
    assert model.vertices.shape == (468, 3)
    assert model.triangles.shape == (898, 3)
    assert model.uv.shape == (468, 2)
    assert np.all((model.uv >= 0.0) & (model.uv <= 1.0))


def test_workers_do_not_import_client_package() -> None:
    code = (
        "import sys\n"
        "import services.render.makeup_renderer, services.render.tasks, services.recon.tasks\n"
        "bad = sorted(m for m in sys.modules if m == 'tryon' or m.startswith('tryon.'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
