#!/usr/bin/env bash
# Builds LightFM 1.17 from its sdist and installs it into a virtualenv (default .venv).
# Usage: scripts/build_lightfm.sh [VENV]. Idempotent: `make install` runs it every time and it
# returns in well under a second once the right LightFM imports.
#
# Why a script (DESIGN.md section 3): LightFM ships no wheels, and its setup.py does
# `__builtins__.__LIGHTFM_SETUP__ = True`, which breaks under PEP 517 (setuptools execs setup.py
# with __builtins__ as a dict: lyst/lightfm#687). Even `pip download` runs that hook, so the sdist
# is fetched with the legacy (non-PEP 517) path, setup.py is patched, and the wheel is built
# without build isolation. LIGHTFM_NO_CFLAGS=1 drops its `-march=native -ffast-math`, so the wheel
# runs on any x86-64 CPU (containers, other nodes). Its C sources are pre-generated: no Cython.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${1:-.venv}"
PY="$VENV/bin/python"
VERSION="1.17"
# sha256 of lightfm-1.17.tar.gz on PyPI: the build is reproducible or it fails.
SDIST_SHA256="2b77ada182ccd768a8d7643ab3cfcd8b6e855db09087f7cc7329bd63316697a8"
WORK="$ROOT/build/lightfm"
SRC="$WORK/lightfm-$VERSION"
DIST="$WORK/dist"

if [[ ! -x "$PY" ]]; then
    echo "[lightfm] no Python at $PY: create the virtualenv first (make install)" >&2
    exit 1
fi

installed_ok() {
    # The OpenMP extension is the one LightFM picks on Linux; import it explicitly so a wheel
    # built without it (or for another Python) counts as not installed.
    "$PY" - "$VERSION" <<'EOF' 2>/dev/null
import sys
import lightfm, lightfm._lightfm_fast_openmp  # noqa: E401
sys.exit(lightfm.__version__ != sys.argv[1])
EOF
}

if installed_ok; then
    exit 0
fi

quiet_pip() {
    # pip's warnings about this machine's optional local indexes are noise; keep real errors.
    "$PY" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }
    return "${PIPESTATUS[0]}"
}

mkdir -p "$WORK" "$DIST"
wheel="$(ls "$DIST"/lightfm-"$VERSION"-cp311-*.whl 2>/dev/null | head -n 1 || true)"
if [[ -z "$wheel" ]]; then
    sdist="$WORK/lightfm-$VERSION.tar.gz"
    if [[ ! -f "$sdist" ]]; then
        echo "[lightfm] downloading the sdist"
        # pip's legacy path needs setuptools + wheel importable; put them in a private folder
        # so the services' venv gets nothing it does not need.
        quiet_pip install --quiet --target "$WORK/tools" setuptools==80.9.0 wheel==0.45.1
        echo "lightfm==$VERSION --hash=sha256:$SDIST_SHA256" >"$WORK/requirements.txt"
        PYTHONPATH="$WORK/tools" quiet_pip download --quiet --no-deps --no-binary :all: \
            --no-use-pep517 --require-hashes -r "$WORK/requirements.txt" -d "$WORK"
    fi
    echo "$SDIST_SHA256  $sdist" | sha256sum --check --quiet
    rm -rf "$SRC"
    tar -xzf "$sdist" -C "$WORK"
    sed -i 's/^__builtins__\.__LIGHTFM_SETUP__ = True$/import builtins; builtins.__LIGHTFM_SETUP__ = True/' \
        "$SRC/setup.py"
    grep -q '^import builtins; builtins.__LIGHTFM_SETUP__ = True$' "$SRC/setup.py" \
        || { echo "[lightfm] setup.py patch did not apply: has the sdist changed?" >&2; exit 1; }
    echo "[lightfm] building the wheel (portable flags, OpenMP; ~15 s)"
    LIGHTFM_NO_CFLAGS=1 quiet_pip wheel --quiet --no-deps --no-build-isolation -w "$DIST" "$SRC"
    wheel="$(ls "$DIST"/lightfm-"$VERSION"-cp311-*.whl | head -n 1)"
fi

# --no-deps: LightFM's install_requires pulls requests + scikit-learn, which only its dataset
# downloaders and lightfm.data need; we build matrices ourselves (services/recsys). scipy and
# numpy are pinned in pyproject.toml.
quiet_pip install --quiet --no-deps --force-reinstall "$wheel"
installed_ok || { echo "[lightfm] installed, but 'import lightfm' fails in $VENV" >&2; exit 1; }
echo "[lightfm] LightFM $VERSION installed in $VENV ($(basename "$wheel"))"
