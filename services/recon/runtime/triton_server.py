"""Starts and stops a real local Triton server (CPU, Python backend) for tests and benchmarks.

`scripts/run_triton.sh` is the same for people and containers; this is its Python twin so a
pytest fixture or a benchmark can own the process: free loopback ports, wait for readiness,
SIGTERM at the end. Both read `.venv-triton/triton.env`, written by `scripts/setup_triton.sh`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

ROOT = Path(__file__).resolve().parents[3]
PYTHON_BACKEND_REPO = ROOT / "deploy" / "triton" / "python_backend"


class TritonSetupError(RuntimeError):
    """The Triton venv or model files are missing: run `make models` and `make triton`."""


def triton_venv() -> Path:
    return Path(os.environ.get("TRYON_TRITON_VENV", ROOT / ".venv-triton"))


def read_triton_env(venv: Path | None = None) -> dict[str, str]:
    path = (venv or triton_venv()) / "triton.env"
    if not path.is_file():
        raise TritonSetupError(f"{path} missing: run `make triton` (scripts/setup_triton.sh)")
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = shlex.split(value)[0] if value else ""
    return env


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held open together so they differ; a tiny race remains)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def make_python_backend_repository(
    dest: Path,
    model_dir: Path,
    models: Mapping[str, str] | None = None,
    config_edits: Mapping[str, Iterable[tuple[str, str]]] | None = None,
) -> Path:
    """A Triton repository under `dest` serving `model_dir/<source>.onnx` via the Python backend.

    `models` maps served name -> source model name (default: every model in
    `deploy/triton/python_backend`, served under its own name). `config_edits[name]` are
    (old, new) text replacements applied to the copied config.pbtxt, e.g. to drop dynamic
    batching for a benchmark variant. model.py and model.onnx are symlinks, so tests always run
    the committed model.py on the freshly built ONNX files.
    """
    if models is None:
        models = {p.parent.name: p.parent.name for p in PYTHON_BACKEND_REPO.glob("*/config.pbtxt")}
    for name, source in models.items():
        onnx_path = (model_dir / f"{source}.onnx").resolve()
        if not onnx_path.is_file():
            raise TritonSetupError(f"{onnx_path} missing: run `make models`")
        config = (PYTHON_BACKEND_REPO / source / "config.pbtxt").read_text()
        config = config.replace(f'name: "{source}"', f'name: "{name}"')
        for old, new in (config_edits or {}).get(name, ()):
            if old not in config:
                raise ValueError(f"{source}/config.pbtxt has no {old!r} to replace")
            config = config.replace(old, new)
        version_dir = dest / name / "1"
        version_dir.mkdir(parents=True, exist_ok=True)
        (dest / name / "config.pbtxt").write_text(config)
        (version_dir / "model.py").symlink_to(PYTHON_BACKEND_REPO / source / "1" / "model.py")
        (version_dir / "model.onnx").symlink_to(onnx_path)
    return dest


class TritonServer:
    """A tritonserver child process bound to 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        model_repository: Path,
        http_port: int | None = None,
        grpc_port: int | None = None,
        metrics_port: int | None = None,
        extra_args: Iterable[str] = (),
        venv: Path | None = None,
    ) -> None:
        self.model_repository = model_repository
        ports = free_ports(3)
        self.http_port = http_port or ports[0]
        self.grpc_port = grpc_port or ports[1]
        self.metrics_port = metrics_port or ports[2]
        self.extra_args = list(extra_args)
        self.env_file = read_triton_env(venv)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_dir = Path(tempfile.mkdtemp(prefix="tryon-triton-log-"))
        self.log_path = self._log_dir / "tritonserver.log"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def command(self) -> list[str]:
        env = self.env_file
        return [
            env["TRITONSERVER"],
            "--model-repository", str(self.model_repository),
            "--backend-directory", env["TRITON_BACKEND_DIR"],
            # Loopback only: an unauthenticated server must not be reachable from outside.
            "--http-address", "127.0.0.1", "--http-port", str(self.http_port),
            "--grpc-address", "127.0.0.1", "--grpc-port", str(self.grpc_port),
            "--metrics-address", "127.0.0.1", "--metrics-port", str(self.metrics_port),
            "--allow-gpu-metrics", "false",
            "--exit-timeout-secs", "10",
            *self.extra_args,
        ]  # fmt: skip

    def start(self, timeout_s: float = 120.0) -> TritonServer:
        env = dict(os.environ)
        # Same two fixes as scripts/run_triton.sh: the stub must load the right libpython, and
        # the venv's bin first on PATH makes the stub's embedded Python start inside the venv.
        libdir = self.env_file["TRITON_PYTHON_LIBDIR"]
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (libdir, env.get("LD_LIBRARY_PATH", "")) if p
        )
        env["PATH"] = os.pathsep.join(
            (str(Path(self.env_file["TRITON_VENV"]) / "bin"), env["PATH"])
        )
        with self.log_path.open("wb") as log:
            # Own session: the fallback SIGKILL can take the Python stubs down with the server.
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        try:
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        client = grpcclient.InferenceServerClient(self.grpc_url)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"tritonserver exited with {self.process.returncode} before it was "
                        f"ready:\n{self.log_tail()}"
                    )
                try:
                    if client.is_server_ready(client_timeout=1.0):
                        return
                except InferenceServerException:
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"tritonserver not ready after {timeout_s:.0f}s:\n{self.log_tail()}"
                    )
                time.sleep(0.1)
        finally:
            client.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM (Triton unloads models and stops its stubs), SIGKILL the group if stuck."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.process = None
        shutil.rmtree(self._log_dir, ignore_errors=True)
        return process.returncode

    def __enter__(self) -> TritonServer:
        return self.start() if self.process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
