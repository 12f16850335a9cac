"""The render-stream worker: live video frames, one at a time per process.

    python -m services.render.stream_worker [--processes N]

Frames wait on a plain Redis list (`STREAM_QUEUE`), not as Celery tasks: measured here, a
Celery message cost each frame ~6 ms of latency and ~6 ms of CPU between the gateway and the
worker's parent process, against ~1 ms for a list push and pop (bench/bench_stream_transport.py,
README "Live video"). What Celery gave the photo path is not wanted here: a frame is never
redelivered (a late frame is worthless), so a popped frame is simply gone if its process dies,
and the gateway answers it UNAVAILABLE after its timeout and re-detects on the next frame,
wherever it lands. Any process takes any frame; a stream's tracking state is in Redis.

The parent forks the processes, replaces any that dies (like Celery's prefork pool), serves
their Prometheus metrics and stops them on SIGTERM, each finishing the frame in hand.
"""

from services.common.worker_metrics import prepare_multiprocess_dir

prepare_multiprocess_dir("render-stream")  # before anything imports prometheus_client

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from types import FrameType  # noqa: E402

import redis  # noqa: E402

from services.common.celery_app import STREAM_FRAME_TASK, STREAM_QUEUE  # noqa: E402
from services.common.payloads import StreamFrameReply, StreamFrameTask  # noqa: E402
from services.common.task_runner import run_interactive  # noqa: E402

log = logging.getLogger("services.render.stream_worker")

METRICS_PORT = 9105
POP_TIMEOUT_S = 1  # how often an idle process checks that it should stop
RESTART_PAUSE_S = 0.5  # between a process's death and its replacement (no tight crash loop)


def _process_frames(stopping: list[bool]) -> None:
    """One process: load the engine, then pop and render frames until told to stop."""
    from services.render import tasks

    worker = tasks.worker()  # models, textures, catalog: loaded once, logged (LOADED_MARK)
    client = worker.redis
    while not stopping:
        try:
            popped = client.blpop([STREAM_QUEUE], timeout=POP_TIMEOUT_S)
        except redis.ConnectionError:
            time.sleep(POP_TIMEOUT_S)  # Redis away: the gateway answers UNAVAILABLE meanwhile
            continue
        if popped is None:
            continue
        payload = json.loads(popped[1])
        if time.time() > float(payload.get("deadline_unix") or "inf"):
            client.delete(str(payload.get("frame_key", "")))  # nobody waits for it any more
            continue
        run_interactive(  # validates the payload, answers on its reply key, never raises
            STREAM_FRAME_TASK, client, payload, StreamFrameTask, StreamFrameReply,
            worker.stream_frame, reply_ttl_s=worker.settings.image_ttl_seconds,
        )  # fmt: skip


def _child() -> None:
    stopping: list[bool] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(True)  # finish the frame in hand, then leave

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    try:
        _process_frames(stopping)
    except Exception:
        log.exception("stream process failed")
        os._exit(1)
    os._exit(0)


def _spawn() -> int:
    pid = os.fork()
    if pid == 0:
        _child()
    return pid


def serve(processes: int) -> None:
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    port = int(os.environ.get("TRYON_METRICS_PORT", METRICS_PORT))
    start_http_server(
        port, addr=os.environ.get("TRYON_METRICS_ADDR", "127.0.0.1"), registry=registry
    )

    children = {_spawn() for _ in range(processes)}
    print(f"render-stream@{socket.gethostname()} ready.", flush=True)
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        multiprocess.mark_process_dead(pid)
        if not stopping:
            print(f"stream process {pid} died ({status}); starting another", flush=True)
            time.sleep(RESTART_PAUSE_S)
            children.add(_spawn())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="services.render.stream_worker")
    parser.add_argument(
        "--processes", type=int, default=int(os.environ.get("TRYON_STREAM_PROCESSES", "2")),
        help="frames rendered at once (one per process); env TRYON_STREAM_PROCESSES, default 2",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    logging.basicConfig(
        level=os.environ.get("TRYON_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    serve(args.processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
