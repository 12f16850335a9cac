"""A worker process killed in the middle of a task loses no request: late acks + reject on a
lost worker put the message back, a new pool child runs it and the caller gets its answer."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bench.images import jpeg_variants
from scripts.stack import Stack
from tests.conftest import auth
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2


def pool_children(parent: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def test_killed_pool_child_loses_no_request(tryon_stub, stack: Stack, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image

    # A large photo makes each task long enough (~50 ms) to be killed in the middle of one.
    rgb = np.asarray(Image.open(shared_data / "faces/portraits/obama3.jpg").convert("RGB"))
    log = stack.log_dir / "recon.log"
    for attempt in range(3):
        payloads = jpeg_variants(rgb, 6, quality=90 - attempt)
        futures = [
            tryon_stub.Reconstruct.future(
                pb.ReconstructRequest(image=types_pb2.Image(data=data)), metadata=auth(), timeout=60
            )
            for data in payloads
        ]
        time.sleep(0.25)
        (child,) = pool_children(stack.pid("recon"))
        os.kill(child, signal.SIGKILL)
        results = [f.result() for f in futures]  # raises if any request was lost
        assert all(len(r.geometry.faces) == 1 for r in results)
        if "WorkerLostError" in log.read_text(errors="replace"):
            break  # the kill hit a task in flight, and it still completed
    else:
        raise AssertionError("never killed a child in the middle of a task")
    assert len(pool_children(stack.pid("recon"))) == 1, "the pool replaced its child"
