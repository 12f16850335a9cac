#!/usr/bin/env bash
# Sets up the CPU Triton server (run by `make triton`); idempotent and fast when already done.
#
# 1. .venv-triton: its own virtualenv from deploy/triton/requirements-server.txt (all pinned).
#    nvidia-pytriton ships a real tritonserver 2.51 with the Python backend but pins numpy<2, so
#    it cannot share the services' venv (numpy 2); the server is a separate process anyway.
# 2. Puts the Python-backend stub for this Python version where the backend looks for it
#    (pytriton does the same copy at run time).
# 3. Writes .venv-triton/triton.env (binary, backend dir, libpython dir) for
#    scripts/run_triton.sh and services/recon/runtime/triton_server.py.
# 4. Copies models/*.onnx into both model repositories under deploy/triton/ when built.
#
# Env: PYTHON (default python3), TRYON_TRITON_VENV (default <repo>/.venv-triton).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TRYON_TRITON_VENV:-$ROOT/.venv-triton}"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS="$ROOT/deploy/triton/requirements-server.txt"
STAMP="$VENV/.tryon-requirements.sha256"

log() { echo "[triton] $*"; }

want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
    && "$VENV/bin/python" -c 'import numpy, onnxruntime, pytriton' 2>/dev/null; then
    log "venv $VENV up to date"
else
    log "creating $VENV (nvidia-pytriton, numpy<2, onnxruntime; ~30 s)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    # (the sed drops this machine's noise about absent local index dirs, nothing else)
    "$VENV/bin/python" -m pip install --quiet --no-input -r "$REQUIREMENTS" 2>&1 \
        | sed "/^WARNING: Location 'file:/d"
    "$VENV/bin/python" -m pip check
    echo "$want" > "$STAMP"
fi

# Layout inside the pytriton wheel; PY_VER picks the stub built for this interpreter.
read -r SITE PY_VER LIBDIR < <("$VENV/bin/python" -c '
import sys, sysconfig
print(sysconfig.get_paths()["purelib"], f"{sys.version_info[0]}.{sys.version_info[1]}",
      sysconfig.get_config_var("LIBDIR"))')
SERVER_ROOT="$SITE/pytriton/tritonserver"
TRITONSERVER="$SERVER_ROOT/bin/tritonserver"
BACKEND_DIR="$SERVER_ROOT/backends"
STUB_SRC="$SERVER_ROOT/python_backend_stubs/$PY_VER/triton_python_backend_stub"
STUB_DST="$BACKEND_DIR/python/triton_python_backend_stub"
[[ -x "$TRITONSERVER" ]] || { log "ERROR: no tritonserver at $TRITONSERVER"; exit 1; }
[[ -f "$STUB_SRC" ]] || { log "ERROR: pytriton ships no Python backend stub for Python $PY_VER"; exit 1; }
# Same depth as the source, so the stub's $ORIGIN-relative RPATH still finds its libraries.
cmp -s "$STUB_SRC" "$STUB_DST" || install -m 0755 "$STUB_SRC" "$STUB_DST"

# The stub embeds libpython: without this dir first on LD_LIBRARY_PATH it links the system's
# libpython3.x (a different build) and dies with `undefined symbol: _recursion_count`.
if [[ ! -e "$LIBDIR/libpython$PY_VER.so.1.0" ]]; then
    log "WARNING: $LIBDIR has no libpython$PY_VER.so.1.0 (Python built without --enable-shared?);"
    log "         the Python-backend stub may load another libpython and fail"
fi

cat > "$VENV/triton.env.tmp" <<ENV
# Written by scripts/setup_triton.sh; read by scripts/run_triton.sh and triton_server.py.
TRITON_VENV='$VENV'
TRITONSERVER='$TRITONSERVER'
TRITON_BACKEND_DIR='$BACKEND_DIR'
TRITON_PYTHON_LIBDIR='$LIBDIR'
ENV
mv "$VENV/triton.env.tmp" "$VENV/triton.env"

# Fails fast here rather than in the first test if the binaries cannot load their libraries
# (`--help` exits 1 even when fine, so look for its usage line instead).
export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
usage="$("$TRITONSERVER" --help 2>&1 || true)"
[[ "$usage" == *"Usage: tritonserver"* ]] \
    || { log "ERROR: $TRITONSERVER does not run: ${usage:0:300}"; exit 1; }
if ldd "$STUB_DST" | grep -q 'not found'; then
    log "ERROR: Python backend stub misses libraries:"; ldd "$STUB_DST" | grep 'not found'; exit 1
fi

if [[ -f "$ROOT/models/face_detector.onnx" && -f "$ROOT/models/face_landmarks_detector.onnx" ]]; then
    "$ROOT/scripts/triton_repo.sh"
else
    log "WARNING: models/*.onnx not built yet (make models); deploy/triton repositories lack model.onnx"
fi

log "tritonserver: $TRITONSERVER"
log "start it with: scripts/run_triton.sh   (env: $VENV/triton.env)"
