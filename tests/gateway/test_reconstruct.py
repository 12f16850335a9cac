"""Reconstruct end to end: a real gRPC client -> gateway -> Redis/Celery -> recon worker."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from scripts.stack import Stack
from tests.conftest import API_KEYS, TEST_DATA, auth
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

OBAMA = TEST_DATA / "obama.jpg"


def reconstruct(stub, data: bytes, tenant: str = "alpha", timeout: float = 30, **kw):  # type: ignore[no-untyped-def]
    request = pb.ReconstructRequest(image=types_pb2.Image(data=data), **kw)
    return stub.Reconstruct(request, metadata=auth(tenant), timeout=timeout).geometry


def landmarks(face: types_pb2.Face) -> np.ndarray:
    return np.array([[p.x, p.y, p.z] for p in face.landmarks], dtype=np.float32)


def inter_ocular(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[33, :2] - points[263, :2]))


def metric_value(port: int, name: str, **labels: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_reconstruct_real_portrait(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    geometry = reconstruct(tryon_stub, OBAMA.read_bytes())
    assert (geometry.image_width, geometry.image_height) == Image.open(OBAMA).size
    assert len(geometry.faces) == 1
    face = geometry.faces[0]
    points = landmarks(face)
    assert points.shape == (478, 3)
    box = face.box
    # Every landmark inside the reported box, the box well inside the image.
    assert np.all(points[:, 0] >= box.x_min - 1) and np.all(
        points[:, 0] <= box.x_min + box.width + 1
    )
    assert np.all(points[:, 1] >= box.y_min - 1) and np.all(
        points[:, 1] <= box.y_min + box.height + 1
    )
    assert 0.2 * geometry.image_width < box.width < 0.9 * geometry.image_width
    # Anatomy: the subject's right eye (33) is left of the left eye (263), the nose tip (1)
    # between them and below, the chin (152) below the upper lip (0).
    assert points[33, 0] < points[1, 0] < points[263, 0]
    assert points[1, 1] > points[33, 1] and points[152, 1] > points[0, 1]
    assert face.confidence > 0.9
    assert len(face.pose.matrix) == 16 and abs(face.pose.yaw) < 25 and abs(face.pose.roll) < 15
    tone = face.skin_tone
    assert 1 <= tone.monk_bucket <= 10 and tone.hex.startswith("#") and len(tone.hex) == 7
    assert 20 < tone.lab_l < 90 and tone.undertone != types_pb2.UNDERTONE_UNSPECIFIED
    assert len(geometry.face_id) == 32 and 0 < geometry.expires_in_seconds <= 15 * 60


def test_several_faces(tryon_stub, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    data = (shared_data / "faces/portraits/two_people.jpg").read_bytes()
    geometry = reconstruct(tryon_stub, data)
    assert len(geometry.faces) == 2
    areas = [f.box.width * f.box.height for f in geometry.faces]
    assert areas == sorted(areas, reverse=True), "faces must come largest first"
    centres = [f.box.x_min + f.box.width / 2 for f in geometry.faces]
    assert abs(centres[0] - centres[1]) > geometry.faces[0].box.width / 2, "two distinct faces"
    only_one = reconstruct(tryon_stub, data, max_faces=1)
    assert len(only_one.faces) == 1
    np.testing.assert_allclose(
        landmarks(only_one.faces[0]), landmarks(geometry.faces[0]), atol=1e-3
    )


def test_no_face_is_an_empty_answer(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    noise = (rng.random((480, 640, 3)) * 255).astype(np.uint8)
    geometry = reconstruct(tryon_stub, _encode(Image.fromarray(noise), "PNG"))
    assert list(geometry.faces) == []
    assert geometry.image_width == 640


def test_partial_face(tryon_stub, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    """Half a face cut by the frame: found, with the hidden half's landmarks extrapolated."""
    path = shared_data / "faces/portraits/obama_partial_face.jpg"
    geometry = reconstruct(tryon_stub, path.read_bytes())
    assert len(geometry.faces) == 1
    points = landmarks(geometry.faces[0])
    inside = (points[:, 0] >= 0) & (points[:, 0] < geometry.image_width)
    assert 0.3 < inside.mean() <= 1.0


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _reference_points(tryon_stub) -> np.ndarray:  # type: ignore[no-untyped-def]
    return landmarks(reconstruct(tryon_stub, OBAMA.read_bytes()).faces[0])


@pytest.mark.parametrize(
    "variant",
    ["grayscale", "rgba", "png16", "cmyk", "exif_rotated"],
)
def test_image_modes_find_the_same_face(tryon_stub, variant: str) -> None:  # type: ignore[no-untyped-def]
    """Every encoding of the same portrait gives landmarks on the same face (original pixels
    of the image as displayed)."""
    reference = _reference_points(tryon_stub)
    img = Image.open(OBAMA)
    if variant == "grayscale":
        data = _encode(img.convert("L"), "JPEG", quality=95)
    elif variant == "rgba":
        rgba = img.convert("RGBA")
        rgba.putalpha(200)
        data = _encode(rgba, "PNG")
    elif variant == "png16":
        grey16 = (np.asarray(img.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        data = _encode(Image.fromarray(grey16), "PNG")
        assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    elif variant == "cmyk":
        data = _encode(img.convert("CMYK"), "JPEG", quality=95)
        assert Image.open(io.BytesIO(data)).mode == "CMYK"
    else:
        # Stored rotated 90 degrees counter-clockwise, with EXIF orientation 6 ("rotate 90
        # clockwise to display"): displayed, it is the upright portrait again.
        exif = Image.Exif()
        exif[0x0112] = 6
        data = _encode(img.rotate(90, expand=True), "JPEG", quality=95, exif=exif.tobytes())
    geometry = reconstruct(tryon_stub, data)
    assert (geometry.image_width, geometry.image_height) == img.size
    assert len(geometry.faces) == 1
    points = landmarks(geometry.faces[0])
    error = np.linalg.norm(points[:, :2] - reference[:, :2], axis=1) / inter_ocular(reference)
    print(f"{variant}: mean {error.mean():.4f}, max {error.max():.4f} of inter-ocular distance")
    assert error.mean() < 0.03 and error.max() < 0.10


def test_cache_hit_on_the_same_selfie(tryon_stub, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    port = stack.worker_metrics_ports["recon"]
    data = _encode(Image.open(OBAMA).resize((455, 568)), "JPEG", quality=90)
    first = reconstruct(tryon_stub, data)
    hits_before = metric_value(port, "tryon_recon_cache_lookups_total", result="hit")
    second = reconstruct(tryon_stub, data)
    assert second.face_id == first.face_id
    assert metric_value(port, "tryon_recon_cache_lookups_total", result="hit") == hits_before + 1
    np.testing.assert_array_equal(landmarks(second.faces[0]), landmarks(first.faces[0]))


def test_tenants_are_isolated(tryon_stub, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    import redis

    data = OBAMA.read_bytes()
    alpha = reconstruct(tryon_stub, data, tenant="alpha")
    beta = reconstruct(tryon_stub, data, tenant="beta")
    assert alpha.face_id != beta.face_id, "face ids must be per tenant"
    client = redis.Redis.from_url(redis_url)
    assert client.exists(f"tryon:t:alpha:image:{alpha.face_id}")
    assert not client.exists(f"tryon:t:beta:image:{alpha.face_id}")
    assert client.exists(f"tryon:t:beta:image:{beta.face_id}")


def test_metrics_and_health(tryon_stub, channel, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    reconstruct(tryon_stub, OBAMA.read_bytes())
    gw = stack.gateway_metrics_port
    assert metric_value(gw, "tryon_grpc_requests_total", method="Reconstruct", code="OK") >= 1
    assert metric_value(gw, "tryon_grpc_request_duration_seconds_count", method="Reconstruct") >= 1
    assert metric_value(gw, "tryon_queue_depth", queue="recon") >= 0
    recon = stack.worker_metrics_ports["recon"]
    assert metric_value(recon, "tryon_task_duration_seconds_count", task="recon.reconstruct") >= 1
    assert metric_value(recon, "tryon_model_inference_seconds_count", model="face_detector") >= 1
    assert metric_value(recon, "tryon_faces_found_count") >= 1
    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service="tryon.v1.TryOnService")).status
    assert status == health_pb2.HealthCheckResponse.SERVING


def run_cli(stack: Stack, *args: str) -> str:
    base = [sys.executable, "-m", "tryon.cli", "--addr", stack.grpc_addr, "--api-key",
            API_KEYS["alpha"]]  # fmt: skip
    return subprocess.run([*base, *args], capture_output=True, text=True, timeout=60,
                          check=True).stdout  # fmt: skip


def test_cli_json(stack: Stack) -> None:
    doc = json.loads(run_cli(stack, "reconstruct", str(OBAMA), "--json"))
    assert len(doc["faces"]) == 1
    face = doc["faces"][0]
    assert len(face["landmarks"]) == 478 and all(len(p) == 3 for p in face["landmarks"])
    assert set(face) == {"landmarks", "pose", "box", "confidence", "skin_tone"}
    summary = run_cli(stack, "reconstruct", str(OBAMA))
    assert "1 face(s)" in summary and "Monk" in summary
