"""WebSocket <-> StreamTryOn: the browser's camera frames go to the gateway's live try-on
stream; its replies come back as binary messages the page draws (framing in API.md).

The browser keeps two frames in flight, so the stream never builds up delay; frames above the
per-stream rate cap are skipped here, a tab that closes cancels the gRPC stream at once (the
gateway then frees the stream's state and its tenant slot)."""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from starlette.websockets import WebSocket, WebSocketDisconnect

from services.web.context import authorize, context_of
from services.web.errors import WebError, bad_request
from services.web.json_api import look_proto
from services.web.key_policy import KeyInfo
from services.web.metrics import WS_FRAMES, WS_STREAMS
from services.web.proto_json import face_box_json
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

log = logging.getLogger(__name__)

CONFIG_TIMEOUT_S = 10.0
MAX_FACES = 4
_HEADER = struct.Struct(">I")
_REPLY_HEADER = struct.Struct(">II")
_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
_TIMINGS = ("decode_ms", "detect_ms", "landmarks_ms", "smooth_ms", "render_ms", "encode_ms",
            "worker_ms", "total_ms")  # fmt: skip


def _close_reason(message: str) -> str:
    """A close frame's reason is at most 123 bytes of UTF-8."""
    data = message.encode()
    return message if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


def config_proto(message: dict[str, Any]) -> pb.StreamTryOnRequest:
    if message.get("type") != "config":
        raise bad_request('send {"type": "config", "look": [...]} first, then frames')
    max_faces = message.get("max_faces", 1)
    if not isinstance(max_faces, int) or not 1 <= max_faces <= MAX_FACES:
        raise bad_request(f"max_faces must be 1..{MAX_FACES}")
    return pb.StreamTryOnRequest(
        config=pb.StreamConfig(
            look=look_proto(message.get("look", [])),
            output_content_type="image/jpeg",
            max_faces=max_faces,
        )
    )


def reply_message(reply: pb.StreamTryOnResponse) -> bytes:
    header = {
        "sequence": reply.sequence,
        "dropped_before": reply.dropped_before,
        "tracked": reply.tracked,
        "faces": [{"box": face_box_json(f)} for f in reply.faces],
        "timings": {name: round(getattr(reply.timings, name), 2) for name in _TIMINGS},
    }
    meta = json.dumps(header, separators=(",", ":")).encode()
    return _REPLY_HEADER.pack(reply.sequence & 0xFFFFFFFF, len(meta)) + meta + reply.image.data


async def _refuse(ws: WebSocket, exc: WebError) -> None:
    """Accept only to say why: a refused handshake gives the page no reason to show."""
    await ws.accept()
    await ws.send_text(json.dumps({"type": "error", "code": exc.code, "message": exc.message}))
    await ws.close(exc.ws_close_code, _close_reason(exc.message))


async def stream_endpoint(ws: WebSocket) -> None:
    try:
        info = await authorize(ws, bucket="stream")
    except WebError as exc:
        WS_FRAMES.labels("refused").inc()
        await _refuse(ws, exc)
        return
    await ws.accept()
    try:
        first = await asyncio.wait_for(ws.receive_text(), CONFIG_TIMEOUT_S)
        config = config_proto(json.loads(first))
    except (TimeoutError, ValueError, KeyError, WebError, WebSocketDisconnect) as exc:
        if isinstance(exc, WebSocketDisconnect):
            return
        message = exc.message if isinstance(exc, WebError) else (
            'the first message must be text: {"type": "config", "look": [...]}'
        )  # fmt: skip
        await ws.send_text(json.dumps({"type": "error", "code": "INVALID_ARGUMENT",
                                       "message": message}))  # fmt: skip
        await ws.close(4400, _close_reason(message))
        return
    WS_STREAMS.inc()
    try:
        await StreamBridge(ws, info).run(config)
    finally:
        WS_STREAMS.dec()


class StreamBridge:
    def __init__(self, ws: WebSocket, info: KeyInfo) -> None:
        self._ws = ws
        self._info = info
        self._settings = context_of(ws).settings
        self._gateway = context_of(ws).gateway
        # Bounded: the browser has two frames in flight; more means it ignores flow control.
        self._outgoing: asyncio.Queue[pb.StreamTryOnRequest | None] = asyncio.Queue(maxsize=8)
        self._frame_times: list[float] = []

    async def _requests(
        self, config: pb.StreamTryOnRequest
    ) -> AsyncIterator[pb.StreamTryOnRequest]:
        yield config
        while (item := await self._outgoing.get()) is not None:
            yield item

    async def run(self, config: pb.StreamTryOnRequest) -> None:
        call = self._gateway.stream_try_on(self._requests(config), self._info.key)
        reader = asyncio.create_task(self._read_browser())
        writer = asyncio.create_task(self._write_browser(call))
        done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        if reader in done:
            # The tab closed (or sent garbage): end the gRPC stream so the gateway frees it.
            call.cancel()
            writer.cancel()
        else:
            reader.cancel()
        await asyncio.gather(reader, writer, return_exceptions=True)
        error = writer.exception() if writer.done() and not writer.cancelled() else None
        if isinstance(error, WebError):
            if error.status == 401:
                context_of(self._ws).keys.forget(self._info.key)
            await self._close(error.ws_close_code, error.message)
        elif error is not None:
            log.warning("studio stream ended: %s", type(error).__name__)
            await self._close(1011, "the try-on platform failed; reload to retry")
        elif writer in done:
            await self._close(1000, "stream ended")

    async def _close(self, code: int, message: str) -> None:
        try:
            if code != 1000:
                await self._ws.send_text(json.dumps({"type": "error", "code": str(code),
                                                     "message": message}))  # fmt: skip
            await self._ws.close(code, _close_reason(message))
        except (RuntimeError, WebSocketDisconnect):
            pass  # already gone

    def _over_rate(self) -> bool:
        now = time.monotonic()
        self._frame_times = [t for t in self._frame_times if now - t < 1.0]
        if len(self._frame_times) >= self._settings.max_stream_fps:
            return True
        self._frame_times.append(now)
        return False

    async def _send_frame_error(self, sequence: int, code: str, message: str) -> None:
        await self._ws.send_text(json.dumps(
            {"type": "error", "sequence": sequence, "code": code, "message": message}
        ))  # fmt: skip

    async def _read_browser(self) -> None:
        try:
            while True:
                message = await self._ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is not None:
                    try:
                        request = config_proto(json.loads(message["text"]))
                    except (ValueError, WebError) as exc:
                        text = exc.message if isinstance(exc, WebError) else "config is not JSON"
                        await self._send_frame_error(-1, "INVALID_ARGUMENT", text)
                        continue
                    await self._outgoing.put(request)
                    continue
                await self._frame(message.get("bytes") or b"")
        finally:
            try:
                self._outgoing.put_nowait(None)  # ends the gRPC request stream
            except asyncio.QueueFull:
                pass  # the call is being cancelled anyway

    async def _frame(self, data: bytes) -> None:
        WS_FRAMES.labels("received").inc()
        if len(data) < _HEADER.size + 1:
            await self._send_frame_error(
                -1, "INVALID_ARGUMENT",
                "a frame is 4 bytes of big-endian sequence number followed by a JPEG",
            )  # fmt: skip
            return
        (sequence,) = _HEADER.unpack_from(data)
        if len(data) - _HEADER.size > self._settings.max_frame_bytes:
            WS_FRAMES.labels("refused").inc()
            await self._send_frame_error(
                sequence, "RESOURCE_EXHAUSTED",
                f"frame {sequence} is {len(data) // 1024} KB; send at most "
                f"{self._settings.max_frame_bytes // 1024} KB (640x480 JPEG is ~40 KB)",
            )  # fmt: skip
            return
        if self._over_rate():
            WS_FRAMES.labels("throttled").inc()
            await self._ws.send_text(json.dumps({
                "type": "throttled", "sequence": sequence,
                "message": f"more than {self._settings.max_stream_fps} frames a second: "
                           "frames are skipped; send one when a reply arrives",
            }))  # fmt: skip
            return
        frame = pb.VideoFrame(
            image=types_pb2.Image(data=data[_HEADER.size :]),
            sequence=sequence,
            timestamp_us=time.monotonic_ns() // 1000,
        )
        if self._outgoing.full():
            WS_FRAMES.labels("throttled").inc()
            return  # the gateway is behind and the browser ignores flow control: skip
        await self._outgoing.put(pb.StreamTryOnRequest(frame=frame))

    async def _write_browser(self, call: grpc.aio.StreamStreamCall) -> None:
        try:
            async for reply in call:
                if reply.error.code:
                    WS_FRAMES.labels("failed").inc()
                    await self._send_frame_error(
                        reply.sequence, _CODE_NAMES.get(reply.error.code, "UNKNOWN"),
                        reply.error.message,
                    )  # fmt: skip
                    continue
                WS_FRAMES.labels("rendered").inc()
                await self._ws.send_bytes(reply_message(reply))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.CANCELLED:
                return
            raise WebError.from_rpc(exc) from None
