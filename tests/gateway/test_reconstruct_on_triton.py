"""The production shape: the recon and render-stream workers run their models on a real Triton
server (TRITON_URL), and Reconstruct and StreamTryOn through the gateway answer the same as
in-process ONNX Runtime."""

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
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    database_url: str,
    triton_server: TritonServer,
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
        worker_metrics_ports={"recon": free_port(), "render-stream": free_port()},
        services=("recon", "render-stream"),
        api_keys_file=keys,
        extra_env={"TRITON_URL": triton_server.grpc_url, "DATABASE_URL": database_url},
    )
    redis.Redis.from_url(url).flushdb()
    try:
        st.up(timeout_s=180)
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


def test_stream_through_triton_matches_in_process(
    triton_stack: Stack, tryon_stub: pb_grpc.TryOnServiceStub, shared_data: Path
) -> None:
    import cv2

    capture = cv2.VideoCapture(str(shared_data / "video" / "d0.mp4"))
    frames = []
    for _ in range(8):
        ok, bgr = capture.read()
        assert ok
        frames.append(cv2.imencode(".jpg", bgr)[1].tobytes())

    def stream(stub: pb_grpc.TryOnServiceStub) -> list[pb.StreamTryOnResponse]:
        config = pb.StreamConfig(max_faces=1, output_content_type="image/png")
        requests = [pb.StreamTryOnRequest(config=config)] + [
            pb.StreamTryOnRequest(frame=pb.VideoFrame(
                image=types_pb2.Image(data=data), sequence=i, timestamp_us=i * 40_000))
            for i, data in enumerate(frames)
        ]  # fmt: skip
        return list(stub.StreamTryOn(_paced(requests), metadata=auth(), timeout=60))

    in_process = stream(tryon_stub)
    with grpc.insecure_channel(triton_stack.grpc_addr) as channel:
        on_triton = stream(pb_grpc.TryOnServiceStub(channel))
    assert len(on_triton) == len(in_process) == len(frames)
    for a, b in zip(on_triton, in_process, strict=True):
        assert len(a.faces) == len(b.faces) == 1 and not a.HasField("error")
        np.testing.assert_allclose(landmarks(a.faces[0]), landmarks(b.faces[0]), atol=0.05)
        assert a.tracked == b.tracked
    port = triton_stack.worker_metrics_ports["render-stream"]
    calls = metric_value(port, "tryon_model_inference_seconds_count", runtime="TritonRuntime")
    assert calls >= len(frames), "the stream worker must have run its models on Triton"


def _paced(requests: list[pb.StreamTryOnRequest]) -> Iterator[pb.StreamTryOnRequest]:
    """Each frame a while after the previous one, long enough for it to be rendered first:
    no frame is skipped, so both runs track the same sequence."""
    import time

    for i, request in enumerate(requests):
        if i > 1:
            time.sleep(0.25)
        yield request
