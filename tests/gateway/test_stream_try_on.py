"""StreamTryOn through the real gateway, Celery stream worker and Redis: frames of a real clip
in, made-up frames out, in order; bad input answered per frame (the stream lives on) or with a
status (bad first message, idle, too many streams); a client that vanishes frees its state; a
stream worker SIGKILLed mid-stream costs frames, never the stream."""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
import redis

from scripts.stack import Stack
from services.common.redis_keys import tenant_streams_key
from services.common.worker_state import LOADED_MARK
from tests.conftest import TEST_MAX_IMAGE_BYTES, TEST_MAX_STREAMS, auth
from tests.gateway.test_try_on import first_product
from tests.gateway.test_worker_failures import pool_children
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

FRAMES = 36
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE.value[0]


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> list[np.ndarray]:
    """The first frames of a real face clip, RGB."""
    capture = cv2.VideoCapture(str(shared_data / "video" / "d0.mp4"))
    frames = []
    while len(frames) < FRAMES:
        ok, bgr = capture.read()
        assert ok, "d0.mp4 has fewer frames than the test needs"
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return frames


@pytest.fixture(scope="module")
def lipstick(channel) -> types_pb2.Product:  # type: ignore[no-untyped-def]
    from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc

    return first_product(cpb_grpc.CatalogServiceStub(channel), types_pb2.PRODUCT_CATEGORY_LIPSTICK)


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return buf.tobytes()


def png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def decode(data: bytes) -> np.ndarray:
    return cv2.cvtColor(
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )


def config(*products: str, output: str = "image/jpeg", max_faces: int = 0) -> pb.StreamTryOnRequest:
    look = types_pb2.Look(applications=[types_pb2.Application(product_id=p) for p in products])
    return pb.StreamTryOnRequest(
        config=pb.StreamConfig(look=look, output_content_type=output, max_faces=max_faces)
    )


def frame(data: bytes, sequence: int, timestamp_us: int = 0) -> pb.StreamTryOnRequest:
    return pb.StreamTryOnRequest(
        frame=pb.VideoFrame(image=types_pb2.Image(data=data), sequence=sequence,
                            timestamp_us=timestamp_us)
    )  # fmt: skip


class Conversation:
    """A bidirectional stream driven step by step: send, then wait for the reply."""

    def __init__(self, stub, tenant: str = "alpha", timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
        self._outbox: queue.Queue[pb.StreamTryOnRequest | None] = queue.Queue()
        self.call = stub.StreamTryOn(self._requests(), metadata=auth(tenant), timeout=timeout)
        self._replies = iter(self.call)

    def _requests(self) -> Iterator[pb.StreamTryOnRequest]:
        while (message := self._outbox.get()) is not None:
            yield message

    def send(self, message: pb.StreamTryOnRequest) -> None:
        self._outbox.put(message)

    def reply(self) -> pb.StreamTryOnResponse:
        return next(self._replies)

    def ask(self, message: pb.StreamTryOnRequest) -> pb.StreamTryOnResponse:
        self.send(message)
        return self.reply()

    def close(self) -> list[pb.StreamTryOnResponse]:
        self._outbox.put(None)
        return list(self._replies)


def reported(reply: pb.StreamTryOnResponse) -> set[str]:
    """The timing stages a reply reports (proto3 leaves unset the stages that did not run)."""
    return {field.name for field, _ in reply.timings.ListFields()}


def lip_colour(rgb: np.ndarray, face: types_pb2.Face) -> np.ndarray:
    """Mean colour inside the lower lip (landmarks 14/17 are its inner/outer middle)."""
    inner, outer = face.landmarks[14], face.landmarks[17]
    x, y = int((inner.x + outer.x) / 2), int((inner.y + outer.y) / 2)
    return rgb[y - 2 : y + 3, x - 6 : x + 7].reshape(-1, 3).mean(axis=0)


def test_clip_streams_in_order_tracked_with_timings(tryon_stub, lipstick, clip) -> None:  # type: ignore[no-untyped-def]
    talk = Conversation(tryon_stub)
    talk.send(config(lipstick.product_id, max_faces=1))
    replies = [talk.ask(frame(jpeg(rgb), 100 + i, i * 33_333)) for i, rgb in enumerate(clip)]
    assert talk.close() == []
    assert [r.sequence for r in replies] == [100 + i for i in range(len(clip))]
    assert [r.error.message for r in replies if r.HasField("error")] == []
    assert all(len(r.faces) == 1 and len(r.faces[0].landmarks) == 478 for r in replies)
    assert all(r.dropped_before == 0 for r in replies)  # one at a time: nothing is stale
    # The first frame detects; after it the one face wanted is tracked from the previous
    # landmarks (the detector runs again only if it is lost). Each reply reports the stages
    # that ran (which stages, not how long: speed is make bench's).
    assert not replies[0].tracked and "detect_ms" in reported(replies[0])
    assert sum(r.tracked for r in replies[1:]) >= len(clip) - 2
    assert all("detect_ms" not in reported(r) for r in replies[1:] if r.tracked)
    every_frame = {"decode_ms", "landmarks_ms", "render_ms", "encode_ms", "worker_ms", "total_ms"}
    assert all(every_frame <= reported(r) for r in replies)
    # The lips wear the lipstick; the background is untouched (up to JPEG re-encoding).
    for rgb, r in zip(clip[::9], replies[::9], strict=True):
        out = decode(r.image.data)
        assert r.image.content_type == "image/jpeg" and out.shape == rgb.shape
        shade = np.array([int(lipstick.shades[0].hex[i : i + 2], 16) for i in (1, 3, 5)])
        before, after = lip_colour(rgb, r.faces[0]), lip_colour(out, r.faces[0])
        assert np.linalg.norm(after - shade) < np.linalg.norm(before - shade) - 10
        assert np.abs(out[:40, :40].astype(int) - rgb[:40, :40]).mean() < 3


def test_look_changes_mid_stream_and_raw_frames(tryon_stub, channel, clip) -> None:  # type: ignore[no-untyped-def]
    from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc

    catalog = cpb_grpc.CatalogServiceStub(channel)
    blush = first_product(catalog, types_pb2.PRODUCT_CATEGORY_BLUSH)
    talk = Conversation(tryon_stub)
    talk.send(config(output="image/png"))  # no look: faces only, pixels untouched
    bare = talk.ask(frame(png(clip[0]), 1))
    assert len(bare.faces) == 1 and np.array_equal(decode(bare.image.data), clip[0])
    talk.send(config(blush.product_id, output="image/png"))
    raw = pb.RawFrame(width=clip[1].shape[1], height=clip[1].shape[0], rgb=clip[1].tobytes())
    painted = talk.ask(pb.StreamTryOnRequest(frame=pb.VideoFrame(raw=raw, sequence=2)))
    assert not painted.HasField("error") and painted.image.content_type == "image/png"
    changed = np.any(decode(painted.image.data) != clip[1], axis=2)
    # Blush lands on the cheeks: below the eyes, beside the nose, not on the lips.
    face = painted.faces[0]
    cheek_y = (face.landmarks[205].y + face.landmarks[425].y) / 2
    ys = np.nonzero(changed)[0]
    assert changed.sum() > 500 and abs(np.median(ys) - cheek_y) < face.box.height * 0.15
    talk.close()


def test_bad_frames_get_per_frame_errors_and_the_stream_lives_on(
    tryon_stub, lipstick, clip
) -> None:  # type: ignore[no-untyped-def]
    talk = Conversation(tryon_stub)
    talk.send(config(lipstick.product_id))
    good = jpeg(clip[0])
    corrupt = good[:200] + bytes(range(256)) * 20 + good[-2:]
    oversized = b"\xff\xd8\xff" + b"\0" * (TEST_MAX_IMAGE_BYTES + 10) + b"\xff\xd9"
    cases = [
        (frame(b"not an image at all", 1), grpc.StatusCode.INVALID_ARGUMENT, "not a JPEG"),
        (frame(corrupt, 2), grpc.StatusCode.INVALID_ARGUMENT, "corrupt"),
        (frame(oversized, 3), grpc.StatusCode.RESOURCE_EXHAUSTED, "limit"),
        (pb.StreamTryOnRequest(frame=pb.VideoFrame(sequence=4)), grpc.StatusCode.INVALID_ARGUMENT,
         "no pixels"),
        (pb.StreamTryOnRequest(frame=pb.VideoFrame(
            raw=pb.RawFrame(width=64, height=64, rgb=b"\0" * 100), sequence=5)),
         grpc.StatusCode.INVALID_ARGUMENT, "needs"),
    ]  # fmt: skip
    for message, code, words in cases:
        reply = talk.ask(message)
        assert reply.sequence == message.frame.sequence
        assert reply.error.code == code.value[0], reply.error.message
        assert words in reply.error.message and not reply.image.data
        ok = talk.ask(frame(good, 10 + message.frame.sequence))  # and the stream goes on
        assert not ok.HasField("error") and len(ok.faces) == 1
    talk.close()


def test_size_changes_faces_leave_and_come_back(tryon_stub, lipstick, clip, shared_data) -> None:  # type: ignore[no-untyped-def]
    talk = Conversation(tryon_stub)
    talk.send(config(lipstick.product_id, output="image/png"))
    first = talk.ask(frame(png(clip[0]), 1))
    assert len(first.faces) == 1
    # The face leaves: that very frame comes back unchanged, without faces.
    empty = np.full_like(clip[0], 90)
    gone = talk.ask(frame(png(empty), 2))
    assert len(gone.faces) == 0 and np.array_equal(decode(gone.image.data), empty)
    back = talk.ask(frame(png(clip[1]), 3))
    assert len(back.faces) == 1 and not back.tracked  # re-detected
    # A different frame size mid-stream (a rotated phone): a new scene, detected afresh.
    small = cv2.resize(clip[2], (320, 320), interpolation=cv2.INTER_AREA)
    resized = talk.ask(frame(png(small), 4))
    assert decode(resized.image.data).shape == small.shape
    assert len(resized.faces) == 1 and not resized.tracked
    assert max(p.x for p in resized.faces[0].landmarks) < 320
    # Two people: max_faces 2 tracks both, largest first.
    two = cv2.cvtColor(cv2.imread(str(shared_data / "faces/portraits/two_people.jpg")),
                       cv2.COLOR_BGR2RGB)  # fmt: skip
    talk.send(config(lipstick.product_id, max_faces=2))
    replies = [talk.ask(frame(jpeg(two), 5 + i)) for i in range(3)]
    assert [len(r.faces) for r in replies] == [2, 2, 2]
    assert replies[-1].tracked
    areas = [f.box.width * f.box.height for f in replies[-1].faces]
    assert areas == sorted(areas, reverse=True)
    talk.close()


def test_a_fast_client_gets_fresh_frames_not_a_backlog(tryon_stub, lipstick, clip) -> None:  # type: ignore[no-untyped-def]
    frames = [jpeg(rgb) for rgb in clip] * 2
    requests = [config(lipstick.product_id)] + [frame(d, i) for i, d in enumerate(frames)]
    replies = list(tryon_stub.StreamTryOn(iter(requests), metadata=auth(), timeout=120))
    sequences = [r.sequence for r in replies]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    # Every frame is answered or counted as skipped, and the newest frame is always rendered.
    assert len(replies) + sum(r.dropped_before for r in replies) == len(frames)
    assert sequences[-1] == len(frames) - 1
    assert sum(r.dropped_before for r in replies) > 0, "all frames sent at once: some are stale"
    assert all(not r.HasField("error") for r in replies)


def _error(call) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as info:
        list(call)
    return info.value


def test_stream_level_errors(tryon_stub, lipstick, clip) -> None:  # type: ignore[no-untyped-def]
    first_frame = [frame(jpeg(clip[0]), 1)]
    err = _error(tryon_stub.StreamTryOn(iter(first_frame), metadata=auth(), timeout=30))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "first message" in err.details()
    err = _error(tryon_stub.StreamTryOn(iter([config(lipstick.product_id)]), timeout=30))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    bad_look = [config(lipstick.product_id), frame(jpeg(clip[0]), 1)]
    bad_look[0].config.look.applications[0].intensity = 3
    err = _error(tryon_stub.StreamTryOn(iter(bad_look), metadata=auth(), timeout=30))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "intensity" in err.details()
    # An unknown product is the frame's error (a new config can fix it), not the stream's.
    talk = Conversation(tryon_stub)
    talk.send(config("no-such-product"))
    reply = talk.ask(frame(jpeg(clip[0]), 1))
    assert reply.error.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert "no-such-product" in reply.error.message
    talk.send(config(lipstick.product_id))
    assert not talk.ask(frame(jpeg(clip[1]), 2)).HasField("error")
    talk.close()


def test_idle_stream_is_closed(tryon_stub, lipstick, clip) -> None:  # type: ignore[no-untyped-def]
    talk = Conversation(tryon_stub)
    talk.send(config(lipstick.product_id))
    assert len(talk.ask(frame(jpeg(clip[0]), 1)).faces) == 1
    with pytest.raises(grpc.RpcError) as info:
        talk.reply()  # nothing sent for longer than the idle timeout (3 s in the test stack)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "no message for" in info.value.details()


def _metric(stack: Stack, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.gateway_metrics_port}/metrics") as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")


def _wait_for(check, timeout_s: float = 15) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_stream_limit_and_vanishing_clients_free_everything(  # type: ignore[no-untyped-def]
    tryon_stub, lipstick, clip, stack: Stack, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    open_streams = []
    for i in range(TEST_MAX_STREAMS):
        talk = Conversation(tryon_stub)
        talk.send(config(lipstick.product_id))
        assert len(talk.ask(frame(jpeg(clip[i]), i)).faces) == 1
        open_streams.append(talk)
    assert _metric(stack, "tryon_streams_active") == TEST_MAX_STREAMS
    assert client.keys("tryon:t:alpha:stream:*"), "tracking state lives in Redis while open"
    over = Conversation(tryon_stub)
    over.send(config(lipstick.product_id))
    with pytest.raises(grpc.RpcError) as info:
        over.reply()
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "open streams" in info.value.details()
    # Another tenant has its own limit.
    other = Conversation(tryon_stub, tenant="beta")
    other.send(config(output="image/png"))
    assert len(other.ask(frame(jpeg(clip[0]), 0)).faces) == 1
    other.close()
    # The clients vanish without closing (cancelled calls): the gateway frees their state.
    for talk in open_streams:
        talk.call.cancel()
    _wait_for(lambda: _metric(stack, "tryon_streams_active") == 0)
    _wait_for(lambda: not client.keys("tryon:t:alpha:stream:*"))
    assert client.zcard(tenant_streams_key("alpha")) == 0
    assert not client.keys("tryon:t:alpha:frame:*")
    talk = Conversation(tryon_stub)  # and the tenant may open streams again
    talk.send(config(lipstick.product_id))
    assert len(talk.ask(frame(jpeg(clip[0]), 0)).faces) == 1
    talk.close()


def test_stream_survives_its_workers_being_killed(tryon_stub, lipstick, clip, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    talk = Conversation(tryon_stub, timeout=180)
    talk.send(config(lipstick.product_id))
    frames = [jpeg(rgb) for rgb in clip]
    before = [talk.ask(frame(frames[i], i)) for i in range(5)]
    assert [(len(r.faces), r.error.message) for r in before] == [(1, "")] * 5
    children = pool_children(stack.pid("render-stream"))
    log = stack.log_dir / "render-stream.log"
    loaded = log.read_text(errors="replace").count(LOADED_MARK)

    replies: list[pb.StreamTryOnResponse] = []
    stop = threading.Event()

    def keep_streaming() -> None:
        i = 5
        while not stop.is_set():
            replies.append(talk.ask(frame(frames[i % len(frames)], i)))
            i += 1

    streamer = threading.Thread(target=keep_streaming)
    streamer.start()
    time.sleep(0.3)
    for child in children:  # every pool child: no worker is left to finish what was in flight
        os.kill(child, signal.SIGKILL)
    # The pool starts new children, which load their models; the stream never stops.
    _wait_for(
        lambda: log.read_text(errors="replace").count(LOADED_MARK) >= loaded + len(children), 90
    )
    time.sleep(0.5)
    stop.set()
    streamer.join(timeout=30)
    assert not streamer.is_alive()
    lost = [r for r in replies if r.HasField("error")]
    assert [(r.error.code, r.error.message) for r in lost if r.error.code != UNAVAILABLE] == []
    # Frames after the restart are rendered again, re-detected then tracked.
    after = [talk.ask(frame(frames[i % len(frames)], 1000 + i)) for i in range(10)]
    talk.close()
    assert [(len(r.faces), r.error.message) for r in after] == [(1, "")] * 10
    assert set(pool_children(stack.pid("render-stream"))).isdisjoint(children)


def _metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as r:
        return r.read().decode()


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    total = 0.0
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and wanted in line or line.startswith(f"{name} "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_stream_metrics_count_frames_faces_and_latency(
    tryon_stub, lipstick, clip, stack: Stack
) -> None:  # type: ignore[no-untyped-def]
    gateway_port = stack.gateway_metrics_port
    worker_port = stack.worker_metrics_ports["render-stream"]
    before, worker_before = _metrics_text(gateway_port), _metrics_text(worker_port)
    talk = Conversation(tryon_stub)
    talk.send(config(lipstick.product_id, max_faces=1))
    for i, rgb in enumerate(clip[:12]):
        talk.ask(frame(jpeg(rgb), i))
    talk.ask(frame(b"garbage", 99))
    talk.close()
    after, worker_after = _metrics_text(gateway_port), _metrics_text(worker_port)

    def grew(name: str, old: str, new: str, **labels: str) -> float:
        return _sample(new, name, **labels) - _sample(old, name, **labels)

    assert grew("tryon_stream_frames_total", before, after, outcome="received") == 13
    assert grew("tryon_stream_frames_total", before, after, outcome="rendered") == 12
    assert grew("tryon_stream_frames_total", before, after, outcome="failed") == 1
    assert grew("tryon_stream_frame_latency_seconds_count", before, after) == 12
    assert grew("tryon_stream_faces_total", worker_before, worker_after, mode="detected") == 1
    assert grew("tryon_stream_faces_total", worker_before, worker_after, mode="tracked") == 11
