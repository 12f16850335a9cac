"""One StreamTryOn stream in the gateway: configs and frames in, one reply per rendered frame.

Transport (chosen by measurement, see the README): each frame is pushed on a plain Redis list
(`STREAM_QUEUE`) popped by the render-stream worker's processes (services/render/stream_worker),
with the tracking state between frames in Redis; not a Celery task, which cost ~6 ms of CPU and
latency per frame. Any stream process can take any frame, so one that dies costs the stream one
frame timeout and the next frame re-detects elsewhere. One frame per stream is in flight at a
time (tracking needs the previous frame's result); while it renders, the reader keeps only the
newest waiting frame and counts the ones it replaces as dropped, so delay never builds up.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import redis.asyncio as aioredis
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.common.celery_app import STREAM_QUEUE
from services.common.image_codec import MIN_SIDE
from services.common.payloads import AppliedProduct, StreamFrameReply, StreamFrameTask
from services.common.redis_keys import (
    reply_key,
    stream_frame_key,
    stream_state_key,
    tenant_streams_key,
)
from services.common.settings import Settings
from services.gateway.geometry_proto import face_proto
from services.gateway.image_input import check_image
from services.gateway.look_proto import look_from_proto, output_format
from services.gateway.metrics import STREAM_FRAME_SECONDS, STREAM_FRAMES, STREAMS_ACTIVE
from services.gateway.rpc import RpcError
from tryon.v1 import tryon_service_pb2 as pb

log = logging.getLogger(__name__)

# A frame waits in Redis at most this long for its worker.
FRAME_TTL_S = 10
# Rendered replies waiting for a slow reader; past this the renderer waits too (and the
# reader keeps replacing the waiting frame), so a slow client never builds up delay.
REPLY_BUFFER = 2
_STATUS_NUMBERS = {code: code.value[0] for code in grpc.StatusCode}


@dataclass(frozen=True)
class StreamConfig:
    look: list[AppliedProduct]
    output_format: str
    content_type: str
    max_faces: int


@dataclass(frozen=True)
class PendingFrame:
    frame: pb.VideoFrame
    config: StreamConfig
    received: float  # monotonic seconds
    received_us: int  # wall clock, for frames without a capture time


class FrameRefused(Exception):
    """A frame the edge refuses: answered with a per-frame error; the stream goes on."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_config(config: pb.StreamConfig, settings: Settings) -> StreamConfig:
    look = look_from_proto(config.look, allow_empty=True, field="config.look")
    fmt, content_type = output_format(config.output_content_type)
    if config.max_faces < 0 or config.max_faces > settings.max_faces:
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"config.max_faces is {config.max_faces}; use 1..{settings.max_faces} "
            "(0 for the default)",
        )
    return StreamConfig(look, fmt, content_type, config.max_faces or settings.default_max_faces)


def check_frame(frame: pb.VideoFrame, settings: Settings) -> tuple[bytes, int, int]:
    """The frame's bytes and, for raw frames, its size; FrameRefused saying what to fix."""
    kind = frame.WhichOneof("pixels")
    limit = settings.max_stream_frame_pixels
    if kind == "raw":
        raw = frame.raw
        if raw.width < MIN_SIDE or raw.height < MIN_SIDE:
            raise FrameRefused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"raw frame is {raw.width}x{raw.height}; each side must be at least {MIN_SIDE}",
            )
        if raw.width * raw.height > limit:
            raise FrameRefused(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"raw frame is {raw.width}x{raw.height}; the limit is {limit / 1e6:.1f} MP per "
                "frame: downscale it",
            )
        if len(raw.rgb) != raw.width * raw.height * 3:
            raise FrameRefused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"raw frame holds {len(raw.rgb)} bytes; {raw.width}x{raw.height} RGB needs "
                f"{raw.width * raw.height * 3}",
            )
        return raw.rgb, raw.width, raw.height
    if kind != "image":
        raise FrameRefused(
            grpc.StatusCode.INVALID_ARGUMENT, "frame has no pixels: set frame.image or frame.raw"
        )
    try:
        check_image(frame.image, settings, max_pixels=limit)  # the same edge as a selfie's
    except RpcError as exc:
        raise FrameRefused(exc.code, exc.message.replace("image", "frame.image", 1)) from None
    data = frame.image.data
    return data, 0, 0


class StreamSession:
    def __init__(
        self,
        tenant: str,
        settings: Settings,
        redis_client: aioredis.Redis,
    ) -> None:
        self.tenant = tenant
        self.settings = settings
        self._redis = redis_client
        self.stream_id = uuid.uuid4().hex
        self._config: StreamConfig | None = None
        self._pending: PendingFrame | None = None
        self._dropped = 0
        self._wake = asyncio.Event()
        self._ended = False
        self._fatal: RpcError | None = None
        self._last_message = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------
    async def run(
        self, requests: AsyncIterator[pb.StreamTryOnRequest]
    ) -> AsyncIterator[pb.StreamTryOnResponse]:
        first = await self._first_message(requests)
        self._config = parse_config(first.config, self.settings)
        await self._open()
        STREAMS_ACTIVE.inc()
        reader = asyncio.create_task(self._read(requests))
        # Rendering runs apart from sending: the next waiting frame starts as soon as the last
        # one is rendered, not after its reply has gone out (a client that sends one frame per
        # reply would otherwise see its waiting frame replaced, and dropped, every time).
        replies: asyncio.Queue[pb.StreamTryOnResponse | RpcError | None] = asyncio.Queue(
            maxsize=REPLY_BUFFER
        )
        renderer = asyncio.create_task(self._render_loop(replies))
        try:
            while (item := await replies.get()) is not None:
                if isinstance(item, RpcError):
                    raise item
                yield item
        finally:
            reader.cancel()
            renderer.cancel()
            STREAMS_ACTIVE.dec()
            await asyncio.shield(self._close())

    async def _first_message(
        self, requests: AsyncIterator[pb.StreamTryOnRequest]
    ) -> pb.StreamTryOnRequest:
        try:
            first = await asyncio.wait_for(
                anext(requests), timeout=self.settings.stream_idle_timeout_s
            )
        except StopAsyncIteration:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT, "empty stream: send a config first"
            ) from None
        except TimeoutError:
            raise RpcError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"no config within {self.settings.stream_idle_timeout_s} s: send a config first",
            ) from None
        if first.WhichOneof("message") != "config":
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "the first message must be a config (look, output type, max faces), then frames",
            )
        return first

    async def _open(self) -> None:
        """Counts this stream against the tenant's limit (shared by every gateway)."""
        key, now = tenant_streams_key(self.tenant), time.time()
        stale = now - 2 * self.settings.stream_idle_timeout_s  # left by a crashed gateway
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, 0, stale)
        pipe.zadd(key, {self.stream_id: now})
        pipe.zcard(key)
        pipe.expire(key, 2 * self.settings.stream_idle_timeout_s + 60)
        _, _, open_streams, _ = await pipe.execute()
        if open_streams > self.settings.max_streams_per_tenant:
            await self._redis.zrem(key, self.stream_id)
            raise RpcError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this tenant already has {self.settings.max_streams_per_tenant} open streams "
                "(the limit): close one, or ask us to raise the limit",
            )

    async def _close(self) -> None:
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.zrem(tenant_streams_key(self.tenant), self.stream_id)
            pipe.delete(stream_state_key(self.tenant, self.stream_id))
            await pipe.execute()
        except Exception:  # Redis away: the state expires on its own (STREAM_STATE_TTL_S)
            log.warning("could not free the state of a closed stream")

    # -- reading -------------------------------------------------------------------------------
    async def _read(self, requests: AsyncIterator[pb.StreamTryOnRequest]) -> None:
        try:
            async for message in requests:
                self._last_message = time.monotonic()
                kind = message.WhichOneof("message")
                if kind == "config":
                    self._config = parse_config(message.config, self.settings)
                elif kind == "frame":
                    STREAM_FRAMES.labels("received").inc()
                    if self._pending is not None:  # never rendered: a newer frame replaces it
                        self._dropped += 1
                        STREAM_FRAMES.labels("dropped").inc()
                    assert self._config is not None
                    self._pending = PendingFrame(
                        message.frame, self._config, time.monotonic(), time.time_ns() // 1000
                    )
                else:
                    raise RpcError(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        "empty message: set config or frame",
                    )
                self._wake.set()
                # Let an idle renderer take this frame before the next message is read: two
                # frames already buffered by gRPC would otherwise arrive in one step, and the
                # first would be dropped although nothing was rendering.
                await asyncio.sleep(0)
        except RpcError as exc:
            self._fatal = exc
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-read
            pass
        self._ended = True
        self._wake.set()

    # -- serving -------------------------------------------------------------------------------
    async def _render_loop(
        self, replies: asyncio.Queue[pb.StreamTryOnResponse | RpcError | None]
    ) -> None:
        try:
            async for reply in self._serve():
                await replies.put(reply)  # blocks while the client reads no replies
        except RpcError as exc:
            await replies.put(exc)
            return
        except Exception:
            log.exception("stream rendering failed")
            await replies.put(RpcError(grpc.StatusCode.INTERNAL, "internal error; retry later"))
            return
        await replies.put(None)

    async def _serve(self) -> AsyncIterator[pb.StreamTryOnResponse]:
        idle_s = self.settings.stream_idle_timeout_s
        while True:
            if self._pending is None and not self._ended and self._fatal is None:
                idle_left = idle_s - (time.monotonic() - self._last_message)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(idle_left, 0.001))
                except TimeoutError:
                    if time.monotonic() - self._last_message >= idle_s:
                        raise RpcError(
                            grpc.StatusCode.DEADLINE_EXCEEDED,
                            f"no message for {idle_s} s: the stream was closed; open a new "
                            "one (send frames, or a config, at least that often)",
                        ) from None
                    continue
                self._wake.clear()
            if self._fatal is not None:
                raise self._fatal
            pending, self._pending = self._pending, None
            if pending is None:
                if self._ended:
                    return
                continue
            reply = await self._render(pending)
            if reply is not None:
                yield reply

    async def _render(self, pending: PendingFrame) -> pb.StreamTryOnResponse | None:
        frame = pending.frame
        timestamp_us = frame.timestamp_us or pending.received_us
        response = pb.StreamTryOnResponse(sequence=frame.sequence, timestamp_us=timestamp_us)
        try:
            data, raw_width, raw_height = check_frame(frame, self.settings)
        except FrameRefused as exc:
            return self._failed(response, exc.code, exc.message)
        request_id = uuid.uuid4().hex
        timeout_s = self.settings.stream_frame_timeout_ms / 1000
        task = StreamFrameTask(
            request_id=request_id, tenant=self.tenant, reply_key=reply_key(request_id),
            stream_id=self.stream_id, frame_key=stream_frame_key(self.tenant, request_id),
            sequence=frame.sequence, timestamp_us=timestamp_us, raw_width=raw_width,
            raw_height=raw_height, look=pending.config.look,
            max_faces=pending.config.max_faces, output_format=pending.config.output_format,
            deadline_unix=time.time() + timeout_s,
        )  # fmt: skip
        reply = await self._send(task, data)
        if reply is None:
            # Lost (its worker died, or it is far too slow): answered as such, so a client
            # that waits for each reply never hangs; the tracking state is forgotten so the
            # next frame re-detects on whichever worker takes it.
            await self._redis.delete(task.frame_key, stream_state_key(self.tenant, self.stream_id))
            return self._failed(
                response,
                grpc.StatusCode.UNAVAILABLE,
                f"this frame was not rendered within {timeout_s:.1f} s (a worker restarted): "
                "the stream goes on with the next frame",
            )
        if reply.error is not None:
            err = RpcError.from_tryon(reply.error.to_error())
            return self._failed(response, err.code, err.message)
        image = await self._redis.getdel(reply.image_key)
        if image is None:
            return self._failed(
                response, grpc.StatusCode.UNAVAILABLE, "the frame's result expired before pickup"
            )
        response.image.data = image
        response.image.content_type = pending.config.content_type
        response.faces.extend(face_proto(face) for face in reply.faces)
        response.tracked = reply.tracked
        t = reply.timings_ms
        timings = response.timings
        timings.decode_ms = t.get("decode", 0.0)
        timings.detect_ms = t.get("detect", 0.0)
        timings.landmarks_ms = t.get("landmarks", 0.0)
        timings.smooth_ms = t.get("smooth", 0.0)
        timings.render_ms = t.get("render", 0.0)
        timings.encode_ms = t.get("encode", 0.0)
        timings.worker_ms = t.get("worker", 0.0)
        return self._finish(response, pending, "rendered")

    async def _send(self, task: StreamFrameTask, data: bytes) -> StreamFrameReply | None:
        """The frame and its task in one round trip; its reply, or None when none came in
        time (the worker drops a task popped after its deadline)."""
        timeout_s = self.settings.stream_frame_timeout_ms / 1000
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(task.frame_key, data, ex=FRAME_TTL_S)
        pipe.zadd(tenant_streams_key(self.tenant), {self.stream_id: time.time()})
        pipe.rpush(STREAM_QUEUE, task.model_dump_json())
        await pipe.execute()
        try:
            popped = await self._redis.blpop([task.reply_key], timeout=timeout_s)
        except (TimeoutError, RedisTimeoutError):
            popped = None
        if popped is None:
            return None
        return StreamFrameReply.model_validate_json(popped[1])

    def _failed(
        self, response: pb.StreamTryOnResponse, code: grpc.StatusCode, message: str
    ) -> pb.StreamTryOnResponse:
        response.error.code = _STATUS_NUMBERS[code]
        response.error.message = message
        STREAM_FRAMES.labels("failed").inc()
        response.dropped_before, self._dropped = self._dropped, 0
        return response

    def _finish(
        self, response: pb.StreamTryOnResponse, pending: PendingFrame, outcome: str
    ) -> pb.StreamTryOnResponse:
        total_s = time.monotonic() - pending.received
        response.timings.total_ms = total_s * 1000
        response.dropped_before, self._dropped = self._dropped, 0
        STREAM_FRAMES.labels(outcome).inc()
        STREAM_FRAME_SECONDS.observe(total_s)
        return response
