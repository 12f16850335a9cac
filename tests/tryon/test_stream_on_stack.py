"""Client.stream_try_on and `tryon stream` through the real stack (gateway, stream worker,
Redis): a real clip in, every frame answered in order under flow control, the look changed
mid-stream, a browser-playable MP4 out that keeps the clip's length (dropped frames repeat the
previous made-up one, at camera pace or not)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from scripts.stack import Stack
from tests.conftest import API_KEYS
from tests.gateway.test_try_on import first_product
from tryon import Client, read_video
from tryon.cli import main
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import types_pb2

FRAMES = 30


@pytest.fixture(scope="module")
def clip_path(shared_data: Path) -> Path:
    return shared_data / "video" / "d0.mp4"


@pytest.fixture(scope="module")
def lipstick(channel) -> str:  # type: ignore[no-untyped-def]
    stub = cpb_grpc.CatalogServiceStub(channel)
    return first_product(stub, types_pb2.PRODUCT_CATEGORY_LIPSTICK).product_id


@pytest.fixture
def client(stack: Stack) -> Iterator[Client]:
    with Client(stack.grpc_addr, api_key=API_KEYS["alpha"]) as c:
        yield c


@pytest.mark.parametrize("raw", [False, True], ids=["jpeg", "raw"])
def test_every_frame_answered_in_order_one_at_a_time(client, clip_path, lipstick, raw) -> None:  # type: ignore[no-untyped-def]
    import cv2

    frames, fps, (width, height) = read_video(clip_path)
    sent = list(itertools.islice(frames, FRAMES))
    payload = sent if raw else [cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR),
                                             [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
                                for f in sent]  # fmt: skip
    look = [types_pb2.Application(product_id=lipstick, intensity=1.0)]
    replies = list(client.stream_try_on(payload, look, fps=fps, window=1, timeout=120))

    assert [r.sequence for r in replies] == list(range(FRAMES))
    start = replies[0].timestamp_us - round(replies[0].sequence * 1e6 / fps)
    assert all(r.timestamp_us - start == round(r.sequence * 1e6 / fps) for r in replies)
    assert all(r.dropped_before == 0 for r in replies), "nothing waits: nothing to drop"
    assert not [r.error.message for r in replies if r.HasField("error")]
    assert sum(len(r.faces) > 0 for r in replies) >= FRAMES - 2  # a frontal face throughout
    assert all(r.HasField("timings") for r in replies)  # per-stage ms (speed: make bench)
    assert _rgb(replies[10]).shape == (height, width, 3)
    assert lips_change(replies[10], sent[10]) > 3 * background_change(replies[10], sent[10])


def test_a_window_of_two_drops_nothing(client, clip_path, lipstick) -> None:  # type: ignore[no-untyped-def]
    """The API's promise: one frame in flight, only the newest *waiting* frame kept. A client
    with at most 2 frames unanswered never has two waiting, so no frame may be skipped: the
    server must put a waiting frame in flight as soon as the previous one is done (before its
    reply goes out), and a frame arriving while nothing is in flight goes in flight at once."""
    frames, fps, _ = read_video(clip_path)
    look = [types_pb2.Application(product_id=lipstick, intensity=1.0)]
    replies = list(client.stream_try_on(frames, look, fps=fps, window=2, timeout=120))
    skipped = [r.sequence for r in replies if r.dropped_before]
    assert not skipped, f"frames skipped before replies {skipped} with only 2 unanswered"
    assert [r.sequence for r in replies] == list(range(len(replies)))


def test_look_changes_mid_stream(client, clip_path, lipstick) -> None:  # type: ignore[no-untyped-def]
    frames, fps, _ = read_video(clip_path)
    sent = list(itertools.islice(frames, 12))
    look = [types_pb2.Application(product_id=lipstick)]
    replies = list(client.stream_try_on(sent, [], fps=fps, looks={6: look}, window=1, timeout=120))
    assert [r.sequence for r in replies] == list(range(12))
    lips = [lips_change(r, f) for r, f in zip(replies, sent, strict=True)]
    assert max(lips[:6]) < min(lips[6:]), lips  # bare lips before frame 6, lipstick after


def _rgb(reply) -> np.ndarray:  # type: ignore[no-untyped-def]
    import cv2

    bgr = cv2.imdecode(np.frombuffer(reply.image.data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# MediaPipe face mesh: upper lip top, lower lip bottom, mouth corners.
LIP_EXTREMES = (0, 17, 61, 291)


def _lip_box(reply) -> tuple[slice, slice]:  # type: ignore[no-untyped-def]
    assert reply.faces, f"frame {reply.sequence}: no face"
    points = np.array([(reply.faces[0].landmarks[i].x, reply.faces[0].landmarks[i].y)
                       for i in LIP_EXTREMES])  # fmt: skip
    (x0, y0), (x1, y1) = points.min(0).astype(int), points.max(0).astype(int) + 1
    return slice(y0, y1), slice(x0, x1)


def lips_change(reply, original: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """Mean absolute RGB change inside the lips' box: paint, not just compression noise."""
    rows, cols = _lip_box(reply)
    return float(np.abs(_rgb(reply)[rows, cols].astype(int) - original[rows, cols]).mean())


def background_change(reply, original: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """The same away from the face (the top-left corner): compression noise only."""
    return float(np.abs(_rgb(reply)[:64, :64].astype(int) - original[:64, :64]).mean()) + 0.5


@pytest.mark.parametrize("realtime", [False, True], ids=["flow-control", "realtime"])
def test_cli_stream_writes_a_video_of_the_same_length(  # type: ignore[no-untyped-def]
    stack, clip_path, lipstick, tmp_path, capsys, realtime
) -> None:
    out = tmp_path / "made-up.mp4"
    argv = ["--addr", stack.grpc_addr, "--api-key", API_KEYS["alpha"], "stream", str(clip_path),
            "-p", f"{lipstick}@0.9", "--out", str(out), "--side-by-side", "--json"]  # fmt: skip
    assert main(argv + (["--realtime"] if realtime else [])) == 0
    captured = capsys.readouterr()
    stats = json.loads(captured.out)
    source, fps, (width, height) = read_video(clip_path)
    count = sum(1 for _ in source)
    assert stats["frames_sent"] == count
    assert stats["frames_received"] + stats["frames_dropped"] == count
    assert stats["frames_failed"] == 0, captured.err  # the CLI prints each failure
    assert {"p50", "p99"} <= stats["latency_ms"].keys()  # reported; speed is make bench's
    assert "total" in stats["server_mean_ms"]
    written, out_fps, size = read_video(out)
    assert size == (2 * width, height) and out_fps == pytest.approx(fps)
    assert sum(1 for _ in written) == count
