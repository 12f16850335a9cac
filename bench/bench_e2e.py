"""Reconstruct end to end through gRPC + Celery: p50/p99 latency and throughput at
concurrency 1, 4 and 16, cached and uncached, and the overhead over bare in-process work."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np
import redis

from bench.images import jpeg_variants, portrait_640x480
from scripts.stack import Stack
from services.common.image_codec import decode_image
from services.recon.face_landmarker import FaceLandmarker
from services.recon.reconstruction import reconstruct_faces
from services.recon.runtime import create_runtime
from tests.conftest import free_port, test_redis_url
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

KEY = "bench-key-0123456789abcdef"


def bare_inference_ms(data: bytes, runs: int = 50) -> float:
    """Decode + landmarks + pose + skin tone in this process (what the worker does)."""
    landmarker = FaceLandmarker(create_runtime())
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        reconstruct_faces(landmarker, decode_image(data, 50_000_000, 1280), 5)
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


async def run_load(addr: str, payloads: list[bytes], concurrency: int) -> tuple[list[float], float]:
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = pb_grpc.TryOnServiceStub(channel)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for p in payloads:
            queue.put_nowait(p)
        latencies: list[float] = []

        async def client() -> None:
            while not queue.empty():
                data = queue.get_nowait()
                begin = time.perf_counter()
                await stub.Reconstruct(
                    pb.ReconstructRequest(image=types_pb2.Image(data=data)),
                    metadata=(("x-api-key", KEY),),
                    timeout=60,
                )
                latencies.append(time.perf_counter() - begin)

        begin = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return latencies, time.perf_counter() - begin


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def main() -> None:
    rgb = portrait_640x480()
    bare = bare_inference_ms(jpeg_variants(rgb, 1)[0])
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.txt"
        keys.write_text(f"bench:{KEY}\n")
        redis_url = test_redis_url().rsplit("/", 1)[0] + "/14"
        stack = Stack(
            var_dir=Path(tmp),
            redis_url=redis_url,
            grpc_addr=f"127.0.0.1:{free_port()}",
            gateway_metrics_port=free_port(),
            worker_metrics_ports={"recon": free_port()},
            services=("recon",),
            api_keys_file=keys,
            worker_concurrency=2,
            extra_env={"TRYON_IMAGE_TTL_SECONDS": "120"},
        )
        stack.ensure_redis()
        redis.Redis.from_url(redis_url).flushdb()
        stack.up()
        try:
            asyncio.run(run_load(stack.grpc_addr, jpeg_variants(rgb, 8, quality=89), 1))  # warm-up
            print(
                "\nReconstruct end to end (gRPC -> gateway -> Redis/Celery -> recon, 640x480, "
                "recon worker prefork x2 on 2 cores)"
            )
            print(f"  bare in-process decode+reconstruct: {bare:.1f} ms (median)")
            print(
                f"  {'mode':9s} {'conc':>4s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s':>7s} "
                f"{'p50 overhead vs bare':>21s}"
            )
            offset = 0
            for cached in (False, True):
                for concurrency in (1, 4, 16):
                    n = 40 * max(1, concurrency // 2)
                    if cached:
                        payloads = jpeg_variants(rgb, 1, quality=88) * n
                        asyncio.run(run_load(stack.grpc_addr, payloads[:1], 1))
                    else:
                        payloads = jpeg_variants(rgb, offset + n)[offset:]
                        offset += n
                    lat, wall = asyncio.run(run_load(stack.grpc_addr, payloads, concurrency))
                    p50 = pct(lat, 50)
                    print(
                        f"  {'cached' if cached else 'uncached':9s} {concurrency:4d} {p50:8.1f} "
                        f"{pct(lat, 99):8.1f} {len(lat) / wall:7.1f} "
                        f"{p50 - bare:+18.1f} ms"
                    )
        finally:
            stack.down()


if __name__ == "__main__":
    main()
