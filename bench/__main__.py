"""Runs every benchmark in turn; each prints its own table. `make bench` calls this."""

from __future__ import annotations

import importlib
import os
import sys
import time

BENCHMARKS = (
    "bench.bench_recon",
    "bench.bench_stream_quality",
    "bench.bench_render",
    "bench.bench_e2e",
    "bench.bench_tryon",
    "bench.bench_stream",
    "bench.bench_studio",
    "bench.bench_triton",
    "bench.bench_recsys",
    "bench.bench_recommend",
    "bench.bench_advisor",
)


def main(names: list[str]) -> int:
    failed = []
    # bench_recon pins this process to one CPU, and the stacks of later benchmarks would inherit
    # that mask: each benchmark starts from the CPUs this run started with.
    cpus = os.sched_getaffinity(0)
    for name in names or BENCHMARKS:
        os.sched_setaffinity(0, cpus)
        print(f"\n=== {name} ===", flush=True)
        begin = time.perf_counter()
        try:
            importlib.import_module(name).main()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            print(f"{name} failed: {type(exc).__name__}: {exc}")
            failed.append(name)
        print(f"({name}: {time.perf_counter() - begin:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
