"""Reconstruct end to end through gRPC + Celery: p50/p99 latency and throughput at
concurrency 1, 4 and 16, cached and uncached, and the overhead over bare in-process work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc

from bench.images import jpeg_variants, portrait_640x480
from bench.stack_load import AUTH, bare_inference_ms, pct, private_stack, run_load
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2


def reconstruct(channel: grpc.aio.Channel) -> Callable[[bytes], Awaitable[object]]:
    stub = pb_grpc.TryOnServiceStub(channel)
    return lambda data: stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=data)), metadata=AUTH, timeout=60
    )


def load(addr: str, payloads: list[bytes], concurrency: int) -> tuple[list[float], float]:
    return asyncio.run(run_load(addr, payloads, concurrency, reconstruct))


def main() -> None:
    rgb = portrait_640x480()
    bare = bare_inference_ms(jpeg_variants(rgb, 1)[0])
    with private_stack(("recon",)) as stack:
        load(stack.grpc_addr, jpeg_variants(rgb, 8, quality=89), 1)  # warm-up
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
                    load(stack.grpc_addr, payloads[:1], 1)
                else:
                    payloads = jpeg_variants(rgb, offset + n)[offset:]
                    offset += n
                lat, wall = load(stack.grpc_addr, payloads, concurrency)
                p50 = pct(lat, 50)
                print(
                    f"  {'cached' if cached else 'uncached':9s} {concurrency:4d} {p50:8.1f} "
                    f"{pct(lat, 99):8.1f} {len(lat) / wall:7.1f} "
                    f"{p50 - bare:+18.1f} ms"
                )


if __name__ == "__main__":
    main()
