#!/usr/bin/env bash
# Copies models/<model>.onnx to <repository>/<model>/1/model.onnx in both Triton model
# repositories (deploy/triton/model_repository for GPUs, deploy/triton/python_backend for CPU).
# Copies, not symlinks: a repository is often shipped on its own (image layer, volume).
# The copies are gitignored. Usage: scripts/triton_repo.sh [models_dir]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="${1:-${TRYON_MODEL_DIR:-$ROOT/models}}"

for model in face_detector face_landmarks_detector; do
    src="$MODELS/$model.onnx"
    [[ -f "$src" ]] || { echo "[triton] ERROR: $src missing: run make models" >&2; exit 1; }
    for repo in model_repository python_backend; do
        dst="$ROOT/deploy/triton/$repo/$model/1/model.onnx"
        if ! cmp -s "$src" "$dst"; then
            # model_repository/<model>/1/ holds only the ignored model.onnx: absent in a clone.
            mkdir -p "$(dirname "$dst")"
            cp "$src" "$dst.tmp" && mv "$dst.tmp" "$dst"
            echo "[triton] $dst <- $src"
        fi
    done
done
