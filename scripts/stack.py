"""Runs the whole stack locally in the background: Redis (a private one if none answers at
REDIS_URL), the gateway and one Celery worker per service. Logs and pid files under var/.

    python -m scripts.stack up | down | status

Tests use `Stack` directly, with their own ports, Redis database and API keys.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import grpc
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.worker_state import LOADED_MARK

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

WORKERS = {
    # name: (Celery app module, queues, metrics port)
    "recon": ("services.recon.worker", "recon", 9101),
    "render": ("services.render.worker", "render", 9102),
    "recsys": ("services.recsys.worker", "recsys", 9103),
    # Catalog re-renders: its own process, at low CPU priority, so a batch never slows
    # interactive try-ons (in Kubernetes: its own Deployment with small CPU requests).
    "render-batch": ("services.render.worker", "batch", 9104),
    # Live video frames (StreamTryOn): their own processes popping a plain Redis list, not
    # Celery (services/render/stream_worker.py), so a frame never waits behind a photo try-on
    # or a catalog re-render.
    "render-stream": ("services.render.stream_worker", "stream", 9105),
}
NOT_CELERY = {"render-stream"}
# Streams keep one frame in flight each: two processes serve two streams at once, and a
# killed process's streams go on in the other while it is replaced.
MIN_CONCURRENCY = {"render-stream": 2}
LOW_PRIORITY = {"render-batch": 10}


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@dataclass
class Stack:
    var_dir: Path = ROOT / "var"
    redis_url: str = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    grpc_addr: str = os.environ.get("TRYON_GRPC_ADDR", "127.0.0.1:50051")
    gateway_metrics_port: int = 9100
    # The web studio (services/web): a partner of the gateway serving browsers.
    web_addr: str = os.environ.get("TRYON_WEB_ADDR", "127.0.0.1:8080")
    web_metrics_port: int = 9106
    with_web: bool = False  # `make up` and the test suite turn it on
    worker_metrics_ports: dict[str, int] = field(
        default_factory=lambda: {name: port for name, (_, _, port) in WORKERS.items()}
    )
    services: Sequence[str] = ("recon", "render", "recsys", "render-batch", "render-stream")
    api_keys_file: Path | None = None
    worker_concurrency: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return f"http://{self.web_addr}"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            REDIS_URL=self.redis_url,
            TRYON_GRPC_ADDR=self.grpc_addr,
            TRYON_WEB_ADDR=self.web_addr,
            # ListProducts' swatch addresses point at the studio, which serves them.
            TRYON_SWATCH_BASE_URL=f"{self.web_url}/swatches",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        if self.api_keys_file:
            env["TRYON_API_KEYS_FILE"] = str(self.api_keys_file)
        env.update(self.extra_env)
        return env

    # -- processes -----------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> int:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 (the child owns it)
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: `down` stops pool children too
        )
        (self.run_dir / f"{name}.pid").write_text(str(proc.pid))
        return proc.pid

    def pid(self, name: str) -> int | None:
        path = self.run_dir / f"{name}.pid"
        if not path.exists():
            return None
        pid = int(path.read_text())
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def ensure_redis(self) -> None:
        if redis_answers(self.redis_url):
            return
        url = urlparse(self.redis_url)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"nothing answers at REDIS_URL={self.redis_url}")
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit(
                "no Redis answers and redis-server is not installed: "
                "apt-get install redis-server, or point REDIS_URL at one"
            )
        # Selfies must never reach a disk: no RDB snapshots, no AOF.
        self._spawn(
            "redis",
            [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(url.port or 6379),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            dict(os.environ),
        )
        self._wait(lambda: redis_answers(self.redis_url), "redis", 10)

    def start_gateway(self) -> None:
        env = self.env()
        env["TRYON_METRICS_PORT"] = str(self.gateway_metrics_port)
        self._spawn("gateway", [str(VENV_BIN / "python"), "-m", "services.gateway"], env)

    def start_web(self) -> None:
        env = self.env()
        env["TRYON_METRICS_PORT"] = str(self.web_metrics_port)
        self._spawn("web", [str(VENV_BIN / "python"), "-m", "services.web"], env)

    def start_worker(self, service: str) -> None:
        module, queues, _ = WORKERS[service]
        env = self.env()
        env["TRYON_METRICS_PORT"] = str(self.worker_metrics_ports[service])
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.var_dir / "prometheus" / service)
        niceness = LOW_PRIORITY.get(service)
        if service in NOT_CELERY:
            argv = [str(VENV_BIN / "python"), "-m", module,
                    "--processes", str(self.concurrency(service))]  # fmt: skip
            self._spawn(service, argv, env)
            return
        argv = [
            *(["nice", "-n", str(niceness)] if niceness else []),
            str(VENV_BIN / "celery"),
            "-A",
            module,
            "worker",
            "-Q",
            queues,
            "--concurrency",
            str(self.concurrency(service)),
            "--loglevel",
            "INFO",
            "-n",
            f"{service}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        self._spawn(service, argv, env)

    def start_beat(self) -> None:
        """Celery beat: the periodic recommender retraining (one per deployment)."""
        argv = [
            str(VENV_BIN / "celery"),
            "-A",
            "services.common.celery_app",
            "beat",
            "--schedule",
            str(self.run_dir / "celerybeat-schedule"),
            "--loglevel",
            "INFO",
        ]
        self._spawn("beat", argv, self.env())

    def up(self, timeout_s: float = 120) -> None:
        self.ensure_redis()
        self.start_gateway()
        if self.with_web:
            self.start_web()
        for service in self.services:
            self.start_worker(service)
        if "recsys" in self.services:
            self.start_beat()
        self.wait_ready(timeout_s)

    def down(self) -> None:
        names = ["web", "gateway", "beat", *WORKERS, "redis"]
        for name in names:
            pid = self.pid(name)
            if pid is not None:
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name in names:
            while self.pid(name) is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            pid = self.pid(name)
            if pid is not None:
                os.killpg(pid, signal.SIGKILL)
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)

    # -- readiness -----------------------------------------------------------------------
    def _wait(self, check, what: str, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not become ready in {timeout_s:.0f} s: see {self.log_dir}")

    def gateway_serving(self) -> bool:
        try:
            with grpc.insecure_channel(self.grpc_addr) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                return status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False

    def web_serving(self) -> bool:
        try:
            with urlopen(f"{self.web_url}/healthz", timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def concurrency(self, service: str) -> int:
        return max(self.worker_concurrency, MIN_CONCURRENCY.get(service, 1))

    def worker_ready(self, service: str) -> bool:
        """A worker is ready once Celery consumes and every pool child has loaded its models
        and logged so."""
        log = self.log_dir / f"{service}.log"
        return (
            log.exists()
            and f"{service}@" in (text := log.read_text(errors="replace"))
            and (" ready." in text)
            and text.count(LOADED_MARK) >= self.concurrency(service)
        )

    def wait_ready(self, timeout_s: float) -> None:
        self._wait(self.gateway_serving, "gateway", timeout_s)
        if self.with_web:
            self._wait(self.web_serving, "web studio", timeout_s)
        for service in self.services:
            self._wait(lambda s=service: self.worker_ready(s), f"{service} worker", timeout_s)


def _dev_api_key(var_dir: Path) -> tuple[Path, str]:
    """A local key for tenant 'demo', created once and kept in var/ (never in the repo)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    key_path = var_dir / "demo_api_key"
    if not key_path.exists():
        key_path.write_text(secrets.token_urlsafe(24))
        key_path.chmod(0o600)
    from services.gateway.auth import hash_key

    keys_file = var_dir / "api_keys.txt"
    keys_file.write_text(f"demo:sha256:{hash_key(key_path.read_text()).hex()}\n")
    return keys_file, key_path.read_text()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    stack = Stack(with_web=True)
    if command == "up":
        keys_file, _ = _dev_api_key(stack.var_dir)
        stack.api_keys_file = keys_file
        if stack.pid("gateway"):
            print("stack already up (make down to stop it)")
            return 0
        stack.down()
        stack.up()
        print(
            f"stack up: gateway {stack.grpc_addr} (metrics :{stack.gateway_metrics_port}), "
            f"workers {', '.join(stack.services)}; logs in {stack.log_dir}"
        )
        print(f"web studio {stack.web_url} (make demo prints its URL with a publishable key)")
        print(f"API key of tenant 'demo': {stack.var_dir / 'demo_api_key'}")
        return 0
    if command == "down":
        stack.down()
        print("stack down")
        return 0
    for name in ["web", "gateway", *WORKERS, "redis"]:
        print(
            f"{name:8s} {'running pid ' + str(stack.pid(name)) if stack.pid(name) else 'stopped'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
