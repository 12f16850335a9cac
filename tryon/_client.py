"""A thin synchronous client over the generated gRPC stubs."""

from __future__ import annotations

import mimetypes
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import job_service_pb2 as jpb
from tryon.v1 import job_service_pb2_grpc as jpb_grpc
from tryon.v1 import key_service_pb2 as kpb
from tryon.v1 import key_service_pb2_grpc as kpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

DEFAULT_ADDR = "127.0.0.1:50051"
# Same as the server's default image limit x2 plus envelope.
_MAX_MESSAGE = 64 * 1024 * 1024


def _image(source: bytes | str | os.PathLike[str]) -> types_pb2.Image:
    if isinstance(source, bytes):
        return types_pb2.Image(data=source)
    path = Path(source)
    content_type = mimetypes.guess_type(path.name)[0] or ""
    return types_pb2.Image(data=path.read_bytes(), content_type=content_type)


def _video_frame(frame: np.ndarray | bytes, sequence: int, timestamp_us: int) -> pb.VideoFrame:
    """numpy H x W x 3 uint8 RGB as a RawFrame (no encode cost); bytes as an encoded Image."""
    message = pb.VideoFrame(sequence=sequence, timestamp_us=timestamp_us)
    if isinstance(frame, bytes | bytearray | memoryview):
        message.image.data = bytes(frame)
        return message
    rgb = np.asarray(frame)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"frame {sequence}: expected H x W x 3 uint8 RGB, got "
                         f"{rgb.shape} {rgb.dtype}")  # fmt: skip
    height, width = rgb.shape[:2]
    message.raw.width, message.raw.height = width, height
    message.raw.rgb = np.ascontiguousarray(rgb).tobytes()
    return message


class Client:
    """Address and key default to env TRYON_GRPC_ADDR and TRYON_API_KEY."""

    def __init__(
        self, addr: str | None = None, api_key: str | None = None, timeout: float = 30.0
    ) -> None:
        self.addr = addr or os.environ.get("TRYON_GRPC_ADDR", DEFAULT_ADDR)
        key = api_key if api_key is not None else os.environ.get("TRYON_API_KEY", "")
        if not key:
            raise ValueError("no API key: pass api_key= or set TRYON_API_KEY")
        self.timeout = timeout
        self._metadata = (("x-api-key", key),)
        self._channel = grpc.insecure_channel(
            self.addr,
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
                ("grpc.max_send_message_length", _MAX_MESSAGE),
            ],
        )
        self.tryon = pb_grpc.TryOnServiceStub(self._channel)
        self.catalog = cpb_grpc.CatalogServiceStub(self._channel)
        self.jobs = jpb_grpc.JobServiceStub(self._channel)
        self.keys = kpb_grpc.KeyServiceStub(self._channel)

    def _call(self, method, request, timeout: float | None = None):  # type: ignore[no-untyped-def]
        return method(request, metadata=self._metadata, timeout=timeout or self.timeout)

    def reconstruct(
        self,
        image: bytes | str | os.PathLike[str],
        max_faces: int = 0,
        timeout: float | None = None,
    ) -> types_pb2.FaceGeometry:
        request = pb.ReconstructRequest(image=_image(image), max_faces=max_faces)
        return self._call(self.tryon.Reconstruct, request, timeout).geometry

    def try_on(
        self,
        image: bytes | str | os.PathLike[str] | None = None,
        look: list[types_pb2.Application] | None = None,
        *,
        face_id: str = "",
        output_content_type: str = "image/jpeg",
        side_by_side: bool = False,
        face_index: int | None = None,
        user_id: str = "",
        timeout: float | None = None,
    ) -> pb.TryOnResponse:
        """The selfie (path, bytes, or the face_id of an earlier call) wearing the look."""
        request = pb.TryOnRequest(
            look=types_pb2.Look(applications=look or []),
            output_content_type=output_content_type,
            side_by_side=side_by_side,
            user_id=user_id,
        )
        if face_id:
            request.face_id = face_id
        elif image is not None:
            request.image.CopyFrom(_image(image))
        if face_index is not None:
            request.face_index = face_index
        return self._call(self.tryon.TryOn, request, timeout)

    def stream_try_on(
        self,
        frames: Iterable[np.ndarray | bytes],
        look: list[types_pb2.Application] | None = None,
        *,
        output_content_type: str = "image/jpeg",
        max_faces: int = 0,
        window: int | None = 2,
        fps: float | None = None,
        looks: Mapping[int, list[types_pb2.Application]] | None = None,
        timeout: float | None = None,
    ) -> Iterator[pb.StreamTryOnResponse]:
        """Live try-on over StreamTryOn: yields one reply per answered frame, in order.

        frames: numpy H x W x 3 uint8 RGB arrays (sent raw) or encoded JPEG/PNG/WebP bytes,
        pulled lazily (a camera generator works). Frame i is sent with sequence i, which its
        reply echoes; frames the server skipped are counted in a later reply's dropped_before.

        window: at most this many frames un-answered at a time (flow control for converting a
        file). The server renders one frame per stream at a time and keeps only the newest
        waiting one, so 1 can never lose a frame and 2 (default) overlaps transfer with render
        and, by the API's promise, drops nothing either; None sends as fast as frames come (a
        live camera: the server skips stale frames, delay never builds up).

        fps: frame i is stamped start + i / fps (the video's clock, what the landmark smoother
        should see when a file is converted faster or slower than real time; start: the wall
        clock when the stream opened, never 0, which would mean "server's receive time");
        None: the wall clock at send.

        looks: changes the look mid-stream, {frame index: applications}; frames from that
        index on wear it (a new StreamConfig is sent just before that frame).

        timeout: deadline for the whole stream in seconds; None (default): no deadline.
        Leaving the loop early cancels the stream.
        """
        if window is not None and window < 1:
            raise ValueError(f"window must be >= 1 or None, got {window}")
        credit = threading.Semaphore(window) if window is not None else None
        finished = threading.Event()
        failure: list[BaseException] = []

        def config(applications: list[types_pb2.Application] | None) -> pb.StreamTryOnRequest:
            return pb.StreamTryOnRequest(
                config=pb.StreamConfig(
                    look=types_pb2.Look(applications=applications or []),
                    output_content_type=output_content_type,
                    max_faces=max_faces,
                )
            )

        def requests() -> Iterator[pb.StreamTryOnRequest]:
            # Runs on gRPC's sending thread. Takes a credit *before* pulling the next frame, so
            # a slow server pauses reading (and a caller's clock for latency starts at send).
            yield config(look)
            start_us = time.time_ns() // 1000
            source = iter(frames)
            sequence = 0
            try:
                while not finished.is_set():
                    if credit is not None:
                        while not credit.acquire(timeout=0.1):
                            if finished.is_set():
                                return
                    try:
                        frame = next(source)
                    except StopIteration:
                        return
                    if looks and sequence in looks:
                        yield config(looks[sequence])
                    now_us = time.time_ns() // 1000
                    stamp = start_us + round(sequence * 1e6 / fps) if fps else now_us
                    yield pb.StreamTryOnRequest(frame=_video_frame(frame, sequence, stamp))
                    sequence += 1
            except Exception as exc:  # surfaced to the caller's loop, not lost in gRPC's thread
                failure.append(exc)

        call = self.tryon.StreamTryOn(requests(), metadata=self._metadata, timeout=timeout)
        try:
            for reply in call:
                if credit is not None:
                    for _ in range(1 + max(0, reply.dropped_before)):
                        credit.release()
                if failure:
                    raise failure[0]
                yield reply
            if failure:
                raise failure[0]
        except grpc.RpcError:
            if failure:  # the cancellation came from our own request thread failing
                raise failure[0] from None
            raise
        finally:
            finished.set()
            if credit is not None:
                credit.release()
            call.cancel()  # no-op when the stream already ended

    def advise(
        self,
        message: str,
        *,
        face_id: str = "",
        user_id: str = "",
        history: list[tuple[str, str]] | None = None,
        render: bool = False,
        k: int = 0,
        timeout: float | None = None,
    ) -> pb.AdviseResponse:
        """The beauty advisor: the shopper's message (Chinese or English) -> understood slots,
        products, a reply, and with render (and a face_id) the look on the face. `history`:
        earlier turns as (role, text), role "shopper" or "advisor", oldest first."""
        request = pb.AdviseRequest(
            message=message, face_id=face_id, user_id=user_id, render=render, k=k,
            history=[pb.AdviceTurn(role=r, text=t) for r, t in history or []],
        )  # fmt: skip
        return self._call(self.tryon.Advise, request, timeout)

    def search_products(self, text: str = "", **fields: object) -> cpb.SearchProductsResponse:
        """Text and colour search ("brick red matte lipstick under $20"; colour="#b5676b")."""
        return self._call(self.catalog.SearchProducts,
                          cpb.SearchProductsRequest(text=text, **fields))  # fmt: skip

    def recommend(
        self,
        *,
        user_id: str = "",
        face_id: str = "",
        skin: pb.SkinAttributes | None = None,
        categories: list[int] | None = None,
        k: int = 10,
        timeout: float | None = None,
        shopper_user_id: str = "",
    ) -> pb.RecommendResponse:
        """For a known shopper (user_id), a selfie (face_id from reconstruct) or skin. With
        face_id or skin, shopper_user_id names the known shopper whose history counts too."""
        request = pb.RecommendRequest(
            categories=categories or [], k=k, shopper_user_id=shopper_user_id
        )
        if user_id:
            request.user_id = user_id
        elif face_id:
            request.face_id = face_id
        elif skin is not None:
            request.skin.CopyFrom(skin)
        return self._call(self.tryon.Recommend, request, timeout)

    def record_event(self, event: pb.RecordEventRequest) -> bool:
        """True when stored now, False when that event_id was already recorded."""
        return self._call(self.tryon.RecordEvent, event).created

    def list_products(self, **filters: object) -> cpb.ListProductsResponse:
        """Filters are ListProductsRequest fields, e.g. category=..., brand="Dior",
        query="ruby matte" (every word in the brand, name or a shade name), page_token=..."""
        return self._call(self.catalog.ListProducts, cpb.ListProductsRequest(**filters))

    def get_product(self, product_id: str, *, include_swatch: bool = False) -> types_pb2.Product:
        """include_swatch: swatch_uri is the swatch PNG itself, as a data: URI."""
        request = cpb.GetProductRequest(product_id=product_id, include_swatch=include_swatch)
        return self._call(self.catalog.GetProduct, request)

    def upsert_products(
        self, products: list[types_pb2.Product], timeout: float | None = None
    ) -> cpb.UpsertProductsResponse:
        """At most 1,000 per call, all or nothing; unchanged products count in neither number.
        A whole file in batches, bad rows reported: tryon.catalog_import.import_catalog."""
        request = cpb.UpsertProductsRequest(products=products)
        return self._call(self.catalog.UpsertProducts, request, timeout)

    def rerender_catalog(self, **filters: object) -> types_pb2.Job:
        return self._call(self.catalog.RerenderCatalog, cpb.RerenderCatalogRequest(**filters))

    def get_job(self, job_id: str) -> types_pb2.Job:
        return self._call(self.jobs.GetJob, jpb.GetJobRequest(job_id=job_id))

    def cancel_job(self, job_id: str) -> types_pb2.Job:
        return self._call(self.jobs.CancelJob, jpb.CancelJobRequest(job_id=job_id))

    def create_publishable_key(
        self, origins: Iterable[str], requests_per_minute: int = 0, label: str = ""
    ) -> kpb.PublishableKey:
        """A key for web pages on these origins (scheme://host[:port]); `.key` holds it, shown
        this once. requests_per_minute 0: the default (600). Needs the secret key."""
        request = kpb.CreatePublishableKeyRequest(
            allowed_origins=list(origins), requests_per_minute=requests_per_minute, label=label
        )
        return self._call(self.keys.CreatePublishableKey, request)

    def list_publishable_keys(self) -> list[kpb.PublishableKey]:
        """The tenant's publishable keys, active and revoked (never the keys themselves)."""
        return list(self._call(self.keys.ListPublishableKeys,
                               kpb.ListPublishableKeysRequest()).keys)  # fmt: skip

    def revoke_publishable_key(self, key_id: str) -> kpb.PublishableKey:
        """Stops the key (by its id, "pkid_...") on every gateway within seconds."""
        request = kpb.RevokePublishableKeyRequest(key_id=key_id)
        return self._call(self.keys.RevokePublishableKey, request)

    def describe_publishable_key(self) -> kpb.PublishableKey:
        """The settings of the publishable key this client was made with."""
        return self._call(self.keys.DescribePublishableKey, kpb.DescribePublishableKeyRequest())

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


_UNDERTONE = {
    types_pb2.UNDERTONE_COOL: "cool",
    types_pb2.UNDERTONE_NEUTRAL: "neutral",
    types_pb2.UNDERTONE_WARM: "warm",
}


def undertone_name(value: int) -> str:
    return _UNDERTONE.get(value, "unknown")


def geometry_to_dict(geometry: types_pb2.FaceGeometry) -> dict[str, Any]:
    """Plain JSON-ready form: landmarks as [x, y, z] lists in original-image pixels."""
    faces = []
    for face in geometry.faces:
        tone = face.skin_tone
        faces.append(
            {
                "landmarks": [[p.x, p.y, p.z] for p in face.landmarks],
                "pose": {
                    "matrix": [list(face.pose.matrix[i : i + 4]) for i in range(0, 16, 4)],
                    "pitch": face.pose.pitch,
                    "yaw": face.pose.yaw,
                    "roll": face.pose.roll,
                },
                "box": {
                    "x_min": face.box.x_min,
                    "y_min": face.box.y_min,
                    "width": face.box.width,
                    "height": face.box.height,
                },
                "confidence": face.confidence,
                "skin_tone": {
                    "lab": [tone.lab_l, tone.lab_a, tone.lab_b],
                    "hex": tone.hex,
                    "ita_degrees": tone.ita_degrees,
                    "monk_bucket": tone.monk_bucket,
                    "undertone": undertone_name(tone.undertone),
                    "confidence": tone.confidence,
                },
            }
        )
    return {
        "face_id": geometry.face_id,
        "image_width": geometry.image_width,
        "image_height": geometry.image_height,
        "expires_in_seconds": geometry.expires_in_seconds,
        "faces": faces,
    }
