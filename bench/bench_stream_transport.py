"""The StreamTryOn transport, chosen by measurement: what one frame's trip between the gateway
and a worker costs, with no rendering in it.

    .venv/bin/python -m bench.bench_stream_transport

Three transports for a 640x480 JPEG frame (~60 KB) and its made-up reply of the same size, each
a round trip from an asyncio client (like the gateway) to a worker process that does nothing
but read the frame and write it back:
  - celery: what StreamTryOn uses. The frame is a Redis key, the task a Celery message on its
    own queue (prefork worker), the reply a Redis list the caller BLPOPs; any worker
    takes any frame, so a dead worker costs one frame and the stream state lives in Redis.
  - redis list (sticky): the frame pushed on a list that one worker process pops (BLPOP),
    reply as above. What a stream pinned to one worker would cost without Celery.
  - grpc (sticky): a direct unary call to the worker's own gRPC server carrying the bytes.
One request in flight at a time (a stream keeps one frame in flight), medians and p99 of 300
round trips after a warm-up. Prints; never asserts.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
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


async def _celery_trips(url: str, frame: bytes) -> list[float]:
    """A frame with no face (grey), empty look, through the real stream task: the worker
    decodes, runs the detector once and encodes; its own time is subtracted below."""
    from services.common.celery_app import STREAM_FRAME_TASK, STREAM_QUEUE, create_app
    from services.common.payloads import StreamFrameReply, StreamFrameTask
    from services.common.redis_keys import reply_key, stream_frame_key
    from services.gateway.dispatch import TaskDispatcher

    os.environ["REDIS_URL"] = url
    client = aioredis.Redis.from_url(url)
    dispatcher = TaskDispatcher(create_app(), client)
    worker_ms: list[float] = []

    async def trip(data: bytes) -> None:
        rid = uuid.uuid4().hex
        task = StreamFrameTask(
            request_id=rid, tenant="bench", reply_key=reply_key(rid), stream_id="transport",
            frame_key=stream_frame_key("bench", rid), sequence=0, timestamp_us=0, max_faces=1,
        )  # fmt: skip
        await client.set(task.frame_key, data, ex=60)
        reply = await dispatcher.send_and_wait(
            STREAM_FRAME_TASK, STREAM_QUEUE, task, StreamFrameReply, 10
        )
        assert reply is not None and reply.error is None, reply
        assert await client.getdel(reply.image_key) is not None
        worker_ms.append(reply.timings_ms["worker"])

    try:
        times = await _time(trip, frame)
    finally:
        await client.aclose()
    worker = worker_ms[WARM_UP:]
    return [t - w for t, w in zip(times, worker, strict=True)]


def _row(name: str, times: list[float]) -> None:
    p50, p99 = statistics.median(times), float(np.percentile(times, 99))
    print(f"  {name:<48} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


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
        f"StreamTryOn transport: one frame's round trip gateway -> worker -> gateway, no "
        f"rendering (640x480 JPEG, {len(frame) / 1024:.0f} KB each way; one in flight; "
        f"{ROUND_TRIPS} trips)"
    )
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
        _row("redis list to one worker (sticky)", asyncio.run(_list_trips(url, frame)))
        _row("grpc to one worker (sticky)", asyncio.run(_grpc_trips(port, frame)))
    finally:
        for w in workers:
            w.kill()
    with _stream_worker(url) as _:
        _row("celery task per frame (used), minus worker time", asyncio.run(
            _celery_trips(url, grey)))  # fmt: skip


class _stream_worker:  # noqa: N801 (a context manager used like a function)
    """The real render-stream worker on a private Redis database."""

    def __init__(self, url: str) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory()
        self.stack = Stack(
            var_dir=Path(self._tmp.name), redis_url=url, grpc_addr=f"127.0.0.1:{free_port()}",
            worker_metrics_ports={"render-stream": free_port()}, services=("render-stream",),
            extra_env={"DATABASE_URL": f"sqlite:///{self._tmp.name}/catalog.db"},
        )  # fmt: skip

    def __enter__(self) -> Stack:
        self.stack.start_worker("render-stream")
        self.stack._wait(lambda: self.stack.worker_ready("render-stream"), "worker", 120)
        return self.stack

    def __exit__(self, *_: object) -> None:
        self.stack.down()
        self._tmp.cleanup()


if __name__ == "__main__":
    main()
    sys.exit(0)
