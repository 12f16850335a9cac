"""The StreamTryOn transport, chosen by measurement: what one frame's trip between the gateway
and a worker costs, with no rendering in it.

    .venv/bin/python -m bench.bench_stream_transport

Transports for a 640x480 JPEG frame and its reply, each a round trip from an asyncio client
(like the gateway) to a worker process, one in flight at a time (a stream keeps one frame in
flight), medians and p99 of 300 round trips after a warm-up, with the CPU the worker side and
the caller spent per trip:
  - redis list, any process (what StreamTryOn uses): the frame a Redis key, its task JSON pushed
    on the `stream` list that the render-stream worker's processes pop, the reply a Redis list
    the caller BLPOPs. A grey frame (no face, no look); the worker's own time is subtracted.
  - celery task per frame (what it used first): the same through a Celery message to a prefork
    worker; here the cheapest render task there is (GetJob of an unknown job), so nothing is
    subtracted.
  - sticky transports, for comparison: a Redis list popped by one echo process, and a direct
    gRPC unary call to one echo process carrying the bytes.
Prints; never asserts.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

import cv2
import grpc
import numpy as np
import redis
import redis.asyncio as aioredis

from bench.images import selfie
from bench.stack_load import REDIS_DB
from scripts.stack import Stack, redis_answers
from tests.conftest import free_port, test_redis_url

ROUND_TRIPS = 300
WARM_UP = 30
LIST_QUEUE = "bench:transport:frames"
ECHO_METHOD = "/bench.Echo/Echo"


def _redis_url() -> str:
    return test_redis_url().rsplit("/", 1)[0] + f"/{REDIS_DB}"


# -- workers (separate processes) ---------------------------------------------------------------
def _list_worker(url: str) -> None:
    client = redis.Redis.from_url(url)
    while True:
        _, raw = client.blpop([LIST_QUEUE])
        frame_key, reply_key = raw.decode().split(" ")
        data = client.getdel(frame_key)
        pipe = client.pipeline(transaction=False)
        pipe.set(frame_key + ":out", data, ex=60)
        pipe.rpush(reply_key, frame_key + ":out")
        pipe.expire(reply_key, 60)
        pipe.execute()


def _grpc_worker(port: int) -> None:
    from concurrent import futures

    def echo(request: bytes, context: grpc.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


# -- clients ---------------------------------------------------------------------------------
async def _time(trip, frame: bytes) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for i in range(WARM_UP + ROUND_TRIPS):
        begin = time.perf_counter()
        await trip(frame)
        if i >= WARM_UP:
            times.append((time.perf_counter() - begin) * 1000)
    return times


async def _list_trips(url: str, frame: bytes) -> list[float]:
    client = aioredis.Redis.from_url(url)

    async def trip(data: bytes) -> None:
        rid = uuid.uuid4().hex
        frame_key, reply_key = f"bench:transport:f:{rid}", f"bench:transport:r:{rid}"
        pipe = client.pipeline(transaction=False)
        pipe.set(frame_key, data, ex=60)
        pipe.rpush(LIST_QUEUE, f"{frame_key} {reply_key}")
        await pipe.execute()
        _, out_key = await client.blpop([reply_key], timeout=10)
        assert await client.getdel(out_key) is not None

    try:
        return await _time(trip, frame)
    finally:
        await client.aclose()


async def _grpc_trips(port: int, frame: bytes) -> list[float]:
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 16 << 20)]
    ) as channel:
        echo = channel.unary_unary(ECHO_METHOD)

        async def trip(data: bytes) -> None:
            assert len(await echo(data)) == len(data)

        return await _time(trip, frame)


async def _stream_trips(url: str, frame: bytes) -> list[float]:
    """Through the real render-stream worker, as the gateway sends frames."""
    from services.common.celery_app import STREAM_QUEUE
    from services.common.payloads import StreamFrameReply, StreamFrameTask
    from services.common.redis_keys import reply_key, stream_frame_key

    client = aioredis.Redis.from_url(url)
    worker_ms: list[float] = []

    async def trip(data: bytes) -> None:
        rid = uuid.uuid4().hex
        task = StreamFrameTask(
            request_id=rid, tenant="bench", reply_key=reply_key(rid), stream_id="transport",
            frame_key=stream_frame_key("bench", rid), sequence=0, timestamp_us=0, max_faces=1,
            deadline_unix=time.time() + 10,
        )  # fmt: skip
        pipe = client.pipeline(transaction=False)
        pipe.set(task.frame_key, data, ex=60)
        pipe.rpush(STREAM_QUEUE, task.model_dump_json())
        await pipe.execute()
        _, raw = await client.blpop([task.reply_key], timeout=10)
        reply = StreamFrameReply.model_validate_json(raw)
        assert reply.error is None, reply
        assert await client.getdel(reply.image_key) is not None
        worker_ms.append(reply.timings_ms["worker"])

    try:
        times = await _time(trip, frame)
    finally:
        await client.aclose()
    worker = worker_ms[WARM_UP:]
    return [t - w for t, w in zip(times, worker, strict=True)]


async def _celery_trips(url: str) -> list[float]:
    from services.common.celery_app import GET_JOB_TASK, RENDER_QUEUE, create_app
    from services.common.payloads import JobReply, JobTask
    from services.gateway.dispatch import TaskDispatcher
    from services.gateway.rpc import RpcError

    os.environ["REDIS_URL"] = url
    client = aioredis.Redis.from_url(url)
    dispatcher = TaskDispatcher(create_app(), client)

    async def trip(_: bytes) -> None:
        try:
            await dispatcher.request(
                GET_JOB_TASK, RENDER_QUEUE, JobTask, JobReply, tenant="bench", timeout_s=10,
                job_id="no-such-job",
            )  # fmt: skip
        except RpcError as exc:
            assert exc.code == grpc.StatusCode.NOT_FOUND, exc.message

    try:
        return await _time(trip, b"")
    finally:
        await client.aclose()


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (not their children)."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _row(name: str, times: list[float], worker_cpu_s: float, caller_cpu_s: float) -> None:
    p50, p99 = statistics.median(times), float(np.percentile(times, 99))
    trips = WARM_UP + ROUND_TRIPS
    print(
        f"  {name:<46} p50 {p50:5.2f} ms  p99 {p99:6.2f} ms   CPU per frame: worker parent "
        f"{worker_cpu_s / trips * 1000:4.2f} ms, caller {caller_cpu_s / trips * 1000:4.2f} ms"
    )


def _measure(name: str, run, worker_pids: list[int]) -> None:  # type: ignore[no-untyped-def]
    cpu0, own0 = _cpu_s(worker_pids), _own_cpu_s()
    times = asyncio.run(run)
    _row(name, times, _cpu_s(worker_pids) - cpu0, _own_cpu_s() - own0)


def main() -> None:
    url = _redis_url()
    if not redis_answers(url):
        print(f"no Redis at {url}: skipped")
        return
    redis.Redis.from_url(url).flushdb()
    rgb = selfie(1)
    frame = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()
    grey = cv2.imencode(".jpg", np.full((480, 640, 3), 128, np.uint8))[1].tobytes()
    print(
        f"StreamTryOn transport: one frame's round trip gateway -> worker -> gateway beyond the "
        f"worker's own work (640x480 JPEG, {len(frame) / 1024:.0f} KB; one in flight; "
        f"{ROUND_TRIPS} trips; 'worker parent' is the process that receives the message, for "
        "Celery the prefork parent, not the child that runs the task)"
    )
    with _workers(url, ("render-stream", "render")) as stack:
        _measure("redis list, any process (used)", _stream_trips(url, grey),
                 [stack.pid("render-stream") or 0])  # fmt: skip
        _measure("celery task per frame (trivial task)", _celery_trips(url),
                 [stack.pid("render") or 0])  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    port = free_port()
    workers = [
        ctx.Process(target=_list_worker, args=(url,), daemon=True),
        ctx.Process(target=_grpc_worker, args=(port,), daemon=True),
    ]
    for w in workers:
        w.start()
    time.sleep(1.0)
    try:
        _measure("sticky: redis list to one echo process", _list_trips(url, frame),
                 [workers[0].pid or 0])  # fmt: skip
        _measure("sticky: grpc to one echo process", _grpc_trips(port, frame),
                 [workers[1].pid or 0])  # fmt: skip
    finally:
        for w in workers:
            w.kill()


class _workers:  # noqa: N801 (a context manager used like a function)
    """Real workers of the stack on a private Redis database and catalog."""

    def __init__(self, url: str, services: tuple[str, ...]) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory()
        self.services = services
        self.stack = Stack(
            var_dir=Path(self._tmp.name), redis_url=url, grpc_addr=f"127.0.0.1:{free_port()}",
            worker_metrics_ports={s: free_port() for s in services}, services=services,
            extra_env={"DATABASE_URL": f"sqlite:///{self._tmp.name}/catalog.db"},
        )  # fmt: skip

    def __enter__(self) -> Stack:
        for service in self.services:
            self.stack.start_worker(service)
        for service in self.services:
            self.stack._wait(lambda s=service: self.stack.worker_ready(s), service, 120)
        return self.stack

    def __exit__(self, *_: object) -> None:
        self.stack.down()
        self._tmp.cleanup()


if __name__ == "__main__":
    main()
    sys.exit(0)
