"""Bad input through the real gateway: each gets a precise status and a message saying what to
fix; afterwards the worker is alive, nothing outlives the TTL in Redis, and no image bytes,
keys or ids reach a log. (The last test of this module checks the aftermath.)"""

from __future__ import annotations

import base64
import io
import os
import secrets
import struct
import time
import zlib

import grpc
import pytest
import redis
from PIL import Image

from scripts.stack import Stack
from tests.conftest import API_KEYS, TEST_DATA, TEST_IMAGE_TTL_S, TEST_MAX_IMAGE_BYTES, auth
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

OBAMA = TEST_DATA / "obama.jpg"


def call(stub, data: bytes, metadata=None, timeout: float = 30, content_type: str = ""):  # type: ignore[no-untyped-def]
    request = pb.ReconstructRequest(image=types_pb2.Image(data=data, content_type=content_type))
    return stub.Reconstruct(
        request, metadata=auth() if metadata is None else metadata, timeout=timeout
    )


def expect_error(stub, data: bytes, code: grpc.StatusCode, *words: str, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        call(stub, data, **kw)
    assert err.value.code() == code, err.value.details()
    details = err.value.details()
    for word in words:
        assert word.lower() in details.lower(), details
    print(f"{code.name}: {details}")
    return details


def png_bomb(side: int) -> bytes:
    """A real decompression bomb: a valid 1-bit PNG of side x side zero pixels, ~100 KB on
    disk, ~`side`^2/8 bytes once inflated."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    row = b"\x00" * (1 + side // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_not_an_image(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    expect_error(
        tryon_stub,
        b"%PDF-1.7 this is a document, not a photo" * 10,
        grpc.StatusCode.INVALID_ARGUMENT,
        "not a JPEG, PNG or WebP",
    )


def test_empty(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    expect_error(tryon_stub, b"", grpc.StatusCode.INVALID_ARGUMENT, "empty")


def test_truncated_jpeg(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    data = OBAMA.read_bytes()
    expect_error(tryon_stub, data[: len(data) // 2], grpc.StatusCode.INVALID_ARGUMENT, "truncated")


def test_corrupt_body_with_valid_ends(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    """Header and end marker intact, garbage in between: only the decoder can tell."""
    data = bytearray(_png(Image.open(OBAMA)))
    data[200:-200] = os.urandom(len(data) - 400)
    expect_error(tryon_stub, bytes(data), grpc.StatusCode.INVALID_ARGUMENT, "corrupt")


def test_over_size_limit(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    data = OBAMA.read_bytes() + b"\x00" * TEST_MAX_IMAGE_BYTES
    expect_error(
        tryon_stub, data, grpc.StatusCode.RESOURCE_EXHAUSTED, str(TEST_MAX_IMAGE_BYTES), "limit"
    )


def test_decompression_bomb(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    bomb = png_bomb(40_000)
    assert len(bomb) < 1_000_000
    expect_error(tryon_stub, bomb, grpc.StatusCode.INVALID_ARGUMENT, "40000x40000", "limit")


def test_content_type_contradicts_bytes(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    expect_error(
        tryon_stub,
        OBAMA.read_bytes(),
        grpc.StatusCode.INVALID_ARGUMENT,
        "image/png",
        content_type="image/png",
    )


def test_tiny_image(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    expect_error(
        tryon_stub, _png(Image.new("RGB", (8, 8))), grpc.StatusCode.INVALID_ARGUMENT, "at least"
    )


def test_max_faces_out_of_range(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        tryon_stub.Reconstruct(
            pb.ReconstructRequest(image=types_pb2.Image(data=OBAMA.read_bytes()), max_faces=999),
            metadata=auth(),
            timeout=30,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_faces" in err.value.details()


@pytest.mark.parametrize(
    "metadata", [(), (("x-api-key", "wrong-key-0123456789"),), (("x-api-key", ""),)]
)
def test_bad_api_key(tryon_stub, metadata) -> None:  # type: ignore[no-untyped-def]
    expect_error(
        tryon_stub,
        OBAMA.read_bytes(),
        grpc.StatusCode.UNAUTHENTICATED,
        "x-api-key",
        metadata=metadata,
    )


def test_deadline_too_short(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    # Several lengths: some expire in the client, some in the gateway, some in the queue. A
    # photo no test sent before: a cached one could be answered within 30 ms.
    img = Image.open(OBAMA).convert("RGB")
    img.putpixel((0, 0), (secrets.randbelow(256), 0, 0))
    fresh = io.BytesIO()
    img.save(fresh, "JPEG", quality=90)
    for timeout in (0.001, 0.005, 0.01):  # below any real reconstruction, however fast
        with pytest.raises(grpc.RpcError) as err:
            call(tryon_stub, fresh.getvalue(), timeout=timeout)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_after_bad_input_nothing_leaks(tryon_stub, stack: Stack, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    # The worker survived everything above and still answers.
    assert stack.pid("recon") is not None and stack.pid("gateway") is not None
    assert len(call(tryon_stub, OBAMA.read_bytes()).geometry.faces) == 1
    # After the TTL nothing of any tenant is left in Redis.
    client = redis.Redis.from_url(redis_url)
    time.sleep(TEST_IMAGE_TTL_S + 1.5)
    leftovers = list(client.scan_iter("tryon:*"))
    assert leftovers == []
    # No image bytes, API keys, Redis keys or face ids in any log.
    logs = b"".join(p.read_bytes() for p in stack.log_dir.glob("*.log"))
    assert logs, "expected some log output"
    jpeg = OBAMA.read_bytes()
    forbidden = [
        jpeg[1000:1032],
        base64.b64encode(jpeg[999:1047]),
        jpeg[1000:1024].hex().encode(),
        *(key.encode() for key in API_KEYS.values()),
        b"tryon:t:",
        b"image:",
    ]
    for needle in forbidden:
        assert needle not in logs, f"{needle[:16]!r}... found in logs"
