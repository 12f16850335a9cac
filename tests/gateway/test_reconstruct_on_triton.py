"""The production shape: the recon worker runs its models on a real Triton server
(TRITON_URL), and Reconstruct through the gateway answers the same as in-process ONNX Runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
import redis

from scripts.stack import Stack
from services.recon.runtime.triton_server import TritonServer
from tests.conftest import API_KEYS, TEST_DATA, auth, free_port
from tests.gateway.test_reconstruct import landmarks, metric_value
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2


@pytest.fixture(scope="module")
def triton_stack(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, triton_server: TritonServer
) -> Iterator[Stack]:
    var_dir = tmp_path_factory.mktemp("triton-stack")
    keys = var_dir / "api_keys.txt"
    keys.write_text("".join(f"{t}:{k}\n" for t, k in API_KEYS.items()))
    url = redis_url.rsplit("/", 1)[0] + "/13"  # its own queues: not the in-process stack's
    st = Stack(
        var_dir=var_dir,
        redis_url=url,
        grpc_addr=f"127.0.0.1:{free_port()}",
        gateway_metrics_port=free_port(),
        worker_metrics_ports={"recon": free_port()},
        services=("recon",),
        api_keys_file=keys,
        extra_env={"TRITON_URL": triton_server.grpc_url},
    )
    redis.Redis.from_url(url).flushdb()
    st.up(timeout_s=180)
    try:
        yield st
    finally:
        st.down()


def test_reconstruct_through_triton_matches_in_process(
    triton_stack: Stack, tryon_stub: pb_grpc.TryOnServiceStub, shared_data: Path
) -> None:
    for path in (TEST_DATA / "obama.jpg", shared_data / "faces/portraits/two_people.jpg"):
        request = pb.ReconstructRequest(image=types_pb2.Image(data=path.read_bytes()))
        in_process = tryon_stub.Reconstruct(request, metadata=auth(), timeout=30).geometry
        with grpc.insecure_channel(triton_stack.grpc_addr) as channel:
            stub = pb_grpc.TryOnServiceStub(channel)
            on_triton = stub.Reconstruct(request, metadata=auth(), timeout=30).geometry
        assert len(on_triton.faces) == len(in_process.faces) >= 1
        for a, b in zip(on_triton.faces, in_process.faces, strict=True):
            np.testing.assert_allclose(landmarks(a), landmarks(b), atol=0.05)
            assert a.skin_tone.hex == b.skin_tone.hex
    port = triton_stack.worker_metrics_ports["recon"]
    calls = metric_value(port, "tryon_model_inference_seconds_count", runtime="TritonRuntime")
    assert calls >= 4, "the worker must have run its models on Triton"
