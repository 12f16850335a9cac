#!/usr/bin/env bash
# Builds models/ (ONNX face detector + landmarks, manifest, canonical face model) from
# MediaPipe's Face Landmarker bundle on PyPI. Idempotent: `make models` runs it every time.
# The conversion needs TensorFlow, which lives in its own venv (.venv-convert) so that its
# numpy/protobuf pins never touch the services' environment.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
VENV="$ROOT/.venv-convert"
REQS="$ROOT/scripts/requirements-convert.txt"
STAMP="$VENV/.requirements.sha256"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    PYTHON=python3
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "[models] need Python 3.11 (set PYTHON=...), got: $("$PYTHON" --version)" >&2
    exit 1
fi

# Fast path: everything built and matching the manifest's hashes (stdlib only, no venv).
if "$PYTHON" scripts/build_models.py --check "$@"; then
    exit 0
fi

want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" || ! -f "$STAMP" || "$(cat "$STAMP")" != "$want" ]]; then
    echo "[models] creating build venv $VENV (tensorflow-cpu, tf2onnx, onnx; ~1 min)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS" 2>&1 \
        | grep -v "^WARNING: Location" || true
    # pip's exit status is hidden by the filter above: check the venv really works.
    "$VENV/bin/python" -c 'import tensorflow, tf2onnx, onnx, onnxruntime' 2>/dev/null \
        || { echo "[models] build venv install failed" >&2; exit 1; }
    echo "$want" >"$STAMP"
fi

TF_CPP_MIN_LOG_LEVEL=2 "$VENV/bin/python" scripts/build_models.py "$@"
