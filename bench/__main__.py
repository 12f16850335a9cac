"""Runs every benchmark in turn; each prints its own table. `make bench` calls this."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = ("bench.bench_recon", "bench.bench_e2e", "bench.bench_triton")


def main(names: list[str]) -> int:
    failed = []
    for name in names or BENCHMARKS:
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
