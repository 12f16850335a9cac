"""What the end-to-end benchmarks share: a private stack, a gRPC load generator, percentiles,
and the bare in-process recon they compare against."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import redis

from scripts.stack import Stack
from services.common.image_codec import decode_image
from services.recon.face_landmarker import FaceLandmarker
from services.recon.reconstruction import reconstruct_faces
from services.recon.runtime import create_runtime
from tests.conftest import free_port, test_redis_url

KEY = "bench-key-0123456789abcdef"
TENANT = "bench"
AUTH = (("x-api-key", KEY),)
# The machine's Redis, database 14: never the demo's (0) nor the tests' (15).
REDIS_DB = 14

# A call factory: given the channel, the coroutine-returning function that sends one item.
Call = Callable[[grpc.aio.Channel], Callable[[Any], Awaitable[object]]]


def bare_inference_ms(data: bytes, runs: int = 50) -> float:
    """Decode + landmarks + pose + skin tone in this process (what the worker does)."""
    landmarker = FaceLandmarker(create_runtime())
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        reconstruct_faces(landmarker, decode_image(data, 50_000_000, 1280), 5)
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


async def run_load(
    addr: str,
    items: Sequence[Any],
    concurrency: int,
    call: Call,
    stop: asyncio.Event | None = None,
) -> tuple[list[float], float]:
    """Sends every item (or until `stop` is set) from `concurrency` clients over one channel;
    returns each call's latency (s) and the wall time (s)."""
    async with grpc.aio.insecure_channel(addr) as channel:
        send = call(channel)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)
        latencies: list[float] = []

        async def client() -> None:
            while not queue.empty() and not (stop is not None and stop.is_set()):
                item = queue.get_nowait()
                begin = time.perf_counter()
                await send(item)
                latencies.append(time.perf_counter() - begin)

        begin = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, time.perf_counter() - begin


def pct(values: list[float], q: float) -> float:
    """The q-th percentile of latencies in seconds, in ms."""
    return float(np.percentile(np.asarray(values) * 1000, q))


@contextmanager
def private_stack(
    services: Sequence[str],
    extra_env: Mapping[str, str] | None = None,
    worker_concurrency: int = 2,
    timeout_s: float = 120,
    with_web: bool = False,
) -> Iterator[Stack]:
    """Gateway + `services` workers on free ports, Redis database REDIS_DB (emptied first),
    tenant TENANT with key KEY; logs in a temporary folder removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.txt"
        keys.write_text(f"{TENANT}:{KEY}\n")
        redis_url = test_redis_url().rsplit("/", 1)[0] + f"/{REDIS_DB}"
        stack = Stack(
            var_dir=Path(tmp),
            redis_url=redis_url,
            grpc_addr=f"127.0.0.1:{free_port()}",
            gateway_metrics_port=free_port(),
            web_addr=f"127.0.0.1:{free_port()}",
            web_metrics_port=free_port(),
            with_web=with_web,
            worker_metrics_ports={name: free_port() for name in services},
            services=tuple(services),
            api_keys_file=keys,
            worker_concurrency=worker_concurrency,
            extra_env={"TRYON_IMAGE_TTL_SECONDS": "120", **(extra_env or {})},
        )
        stack.ensure_redis()
        redis.Redis.from_url(redis_url).flushdb()
        stack.up(timeout_s)
        try:
            yield stack
        finally:
            stack.down()
