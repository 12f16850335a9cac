#!/usr/bin/env bash
# Starts a real Triton server (CPU, Python backend) on 127.0.0.1 and waits until it is ready.
#
#   scripts/run_triton.sh [--model-repository DIR] [--http-port N] [--grpc-port N]
#                         [--metrics-port N] [--detach] [-- extra tritonserver args]
#
# Defaults: deploy/triton/python_backend, ports $TRITON_HTTP_PORT/$TRITON_GRPC_PORT/
# $TRITON_METRICS_PORT or 8000/8001/8002. Foreground by default: prints "ready" once every model
# is loaded, then runs until SIGTERM/SIGINT (forwarded to the server, which drains and exits).
# --detach: returns once ready, leaving the server running; pid in var/run/triton.pid, log in
# var/log/triton.log (the stack's layout); stop it with `kill -TERM "$(cat var/run/triton.pid)"`.
# Clients: TRITON_URL=127.0.0.1:<grpc port>. Needs scripts/setup_triton.sh (make triton) first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TRYON_TRITON_VENV:-$ROOT/.venv-triton}"
REPO="$ROOT/deploy/triton/python_backend"
HTTP_PORT="${TRITON_HTTP_PORT:-8000}"
GRPC_PORT="${TRITON_GRPC_PORT:-8001}"
METRICS_PORT="${TRITON_METRICS_PORT:-8002}"
DETACH=0
READY_TIMEOUT_S="${TRITON_READY_TIMEOUT_S:-120}"
EXTRA=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --model-repository) REPO="$2"; shift 2 ;;
        --http-port) HTTP_PORT="$2"; shift 2 ;;
        --grpc-port) GRPC_PORT="$2"; shift 2 ;;
        --metrics-port) METRICS_PORT="$2"; shift 2 ;;
        --detach) DETACH=1; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done

[[ -f "$VENV/triton.env" ]] || { echo "[triton] $VENV/triton.env missing: run make triton" >&2; exit 1; }
# shellcheck source=/dev/null
source "$VENV/triton.env"
for model in "$REPO"/*/config.pbtxt; do
    if ! compgen -G "$(dirname "$model")/[0-9]*/model.*" >/dev/null; then
        echo "[triton] $(dirname "$model") has no model file: run make models && make triton" >&2
        exit 1
    fi
done

# The Python-backend stub embeds libpython: this dir first, or it links the system's libpython
# and dies with `_recursion_count`. The venv's bin first on PATH makes the stub's embedded
# Python start inside the venv (its numpy<2 and onnxruntime), since it ignores PYTHONPATH.
export LD_LIBRARY_PATH="$TRITON_PYTHON_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$TRITON_VENV/bin:$PATH"
ARGS=(
    --model-repository "$REPO"
    --backend-directory "$TRITON_BACKEND_DIR"
    # Loopback only: nothing outside this machine should reach an unauthenticated server.
    --http-address 127.0.0.1 --http-port "$HTTP_PORT"
    --grpc-address 127.0.0.1 --grpc-port "$GRPC_PORT"
    --metrics-address 127.0.0.1 --metrics-port "$METRICS_PORT"
    --allow-gpu-metrics false
    --exit-timeout-secs 10
    ${EXTRA[@]+"${EXTRA[@]}"}
)

if [[ $DETACH == 1 ]]; then
    mkdir -p "$ROOT/var/run" "$ROOT/var/log"
    setsid "$TRITONSERVER" "${ARGS[@]}" >"$ROOT/var/log/triton.log" 2>&1 < /dev/null &
    PID=$!
    echo "$PID" > "$ROOT/var/run/triton.pid"
else
    "$TRITONSERVER" "${ARGS[@]}" &
    PID=$!
    trap 'kill -TERM "$PID" 2>/dev/null || true' TERM INT
fi

deadline=$((SECONDS + READY_TIMEOUT_S))
until curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/v2/health/ready"; do
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "[triton] server exited before it was ready" >&2
        [[ $DETACH == 1 ]] && tail -n 30 "$ROOT/var/log/triton.log" >&2
        exit 1
    fi
    if (( SECONDS > deadline )); then
        echo "[triton] not ready after ${READY_TIMEOUT_S}s; stopping it" >&2
        kill -TERM "$PID" 2>/dev/null || true
        exit 1
    fi
    sleep 0.2
done
echo "[triton] ready: grpc 127.0.0.1:$GRPC_PORT, http 127.0.0.1:$HTTP_PORT, metrics 127.0.0.1:$METRICS_PORT (pid $PID)"

if [[ $DETACH == 0 ]]; then
    # `wait` returns early when a trapped signal arrives: wait again for the drain to finish.
    status=0
    wait "$PID" || status=$?
    if kill -0 "$PID" 2>/dev/null; then wait "$PID" || status=$?; fi
    exit "$status"
fi
