"""Fixtures shared by the whole suite: the real data set and a real running stack (Redis,
gateway, Celery workers) on private ports, with two tenants."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import grpc
import pytest
import redis

from scripts.stack import Stack
from services.recon.runtime import default_model_dir
from services.recon.runtime.triton_server import TritonServer, make_python_backend_repository
from services.render.catalog import CatalogStore
from services.render.catalog.seed import seed
from tryon.v1 import tryon_service_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
# Selfies live this long in the test stack, so "nothing left after the TTL" is checkable.
TEST_IMAGE_TTL_S = 4
TEST_MAX_IMAGE_BYTES = 4 * 1024 * 1024
# Short enough for the idle-stream test; streams per tenant low enough to reach the limit.
TEST_STREAM_IDLE_TIMEOUT_S = 3
TEST_MAX_STREAMS = 3
# Low enough for a flood test to reach, high enough for a studio session in the browser tests.
TEST_WEB_REQUESTS_PER_MINUTE = 200
# A revoked publishable key is refused by every gateway within this many seconds.
TEST_KEY_CACHE_TTL_S = 1
API_KEYS = {"alpha": "alpha-key-0123456789abcdef", "beta": "beta-key-0123456789abcdef"}


def shared_data_dir() -> Path:
    path = Path(os.environ.get("TRYON_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        raise RuntimeError(f"shared data not found at {path}: set TRYON_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return shared_data_dir()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redis_url() -> str:
    """The machine's Redis (REDIS_URL) but database 15, so a running demo stack and the
    tests never consume each other's queues."""
    if os.environ.get("TRYON_TEST_REDIS_URL"):
        return os.environ["TRYON_TEST_REDIS_URL"]
    url = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunparse(url._replace(path="/15"))


@pytest.fixture(scope="session")
def redis_url() -> str:
    return test_redis_url()


TEST_DATABASE = "tryon_test"


def _postgres_test_url() -> str | None:
    """A fresh `tryon_test` database on the machine's PostgreSQL (127.0.0.1:5432, or
    TRYON_TEST_POSTGRES_URL naming the server), or None when no PostgreSQL answers."""
    import psycopg

    server = os.environ.get("TRYON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {TEST_DATABASE}")
    except psycopg.OperationalError:
        return None
    return f"{server.replace('postgresql://', 'postgresql+psycopg://', 1)}/{TEST_DATABASE}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> str:
    """The catalog database for the suite, seeded from the real shade data: PostgreSQL when
    the machine runs one (as CI does), else a SQLite file."""
    url = os.environ.get("TRYON_TEST_DATABASE_URL") or _postgres_test_url()
    if url is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.db'}"
        print(f"\nno PostgreSQL at 127.0.0.1:5432: catalog tests run on SQLite ({url})")
    store = CatalogStore(url)
    try:
        seed(store, shared_data)
    finally:
        store.dispose()
    return url


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, database_url: str
) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("stack")
    keys_file = var_dir / "api_keys.txt"
    keys_file.write_text("".join(f"{tenant}:{key}\n" for tenant, key in API_KEYS.items()))
    st = Stack(
        var_dir=var_dir,
        redis_url=redis_url,
        grpc_addr=f"127.0.0.1:{free_port()}",
        gateway_metrics_port=free_port(),
        web_addr=f"127.0.0.1:{free_port()}",
        web_metrics_port=free_port(),
        with_web=True,
        worker_metrics_ports={
            name: free_port()
            for name in ("recon", "render", "render-batch", "render-stream", "recsys")
        },
        services=("recon", "render", "render-batch", "render-stream", "recsys"),
        api_keys_file=keys_file,
        extra_env={
            "TRYON_IMAGE_TTL_SECONDS": str(TEST_IMAGE_TTL_S),
            "TRYON_MAX_IMAGE_BYTES": str(TEST_MAX_IMAGE_BYTES),
            "TRYON_LOG_LEVEL": "DEBUG",
            "DATABASE_URL": database_url,
            "TRYON_RENDER_OUTPUT_DIR": str(var_dir / "renders"),
            "TRYON_STREAM_IDLE_TIMEOUT_S": str(TEST_STREAM_IDLE_TIMEOUT_S),
            "TRYON_MAX_STREAMS_PER_TENANT": str(TEST_MAX_STREAMS),
            "TRYON_WEB_REQUESTS_PER_MINUTE": str(TEST_WEB_REQUESTS_PER_MINUTE),
            "TRYON_WEB_KEY_CACHE_TTL_S": "1",
            "TRYON_KEY_CACHE_TTL_S": str(TEST_KEY_CACHE_TTL_S),
        },
    )
    st.ensure_redis()
    redis.Redis.from_url(redis_url).flushdb()
    try:
        st.up(timeout_s=180)
        yield st
    finally:
        st.down()


@pytest.fixture(scope="session")
def channel(stack: Stack) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(
        stack.grpc_addr, options=[("grpc.max_send_message_length", 64 << 20)]
    ) as ch:
        yield ch


@pytest.fixture(scope="session")
def tryon_stub(channel: grpc.Channel) -> tryon_service_pb2_grpc.TryOnServiceStub:
    return tryon_service_pb2_grpc.TryOnServiceStub(channel)


@pytest.fixture(scope="session")
def triton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """A real Triton server (CPU, python backend over the same ONNX files) on free ports."""
    repo = make_python_backend_repository(
        tmp_path_factory.mktemp("triton") / "repo", default_model_dir()
    )
    server = TritonServer(repo).start(timeout_s=180)
    try:
        yield server
    finally:
        server.stop()  # SIGTERM: Triton unloads the models and stops their stubs


def auth(tenant: str = "alpha") -> tuple[tuple[str, str]]:
    return (("x-api-key", API_KEYS[tenant]),)
