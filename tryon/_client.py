"""A thin synchronous client over the generated gRPC stubs."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

import grpc

from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import job_service_pb2 as jpb
from tryon.v1 import job_service_pb2_grpc as jpb_grpc
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

    def recommend(
        self,
        *,
        user_id: str = "",
        face_id: str = "",
        skin: pb.SkinAttributes | None = None,
        categories: list[int] | None = None,
        k: int = 10,
        timeout: float | None = None,
    ) -> pb.RecommendResponse:
        """For a known shopper (user_id), a selfie (face_id from reconstruct) or skin."""
        request = pb.RecommendRequest(categories=categories or [], k=k)
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
        return self._call(self.catalog.ListProducts, cpb.ListProductsRequest(**filters))

    def get_product(self, product_id: str) -> types_pb2.Product:
        return self._call(self.catalog.GetProduct, cpb.GetProductRequest(product_id=product_id))

    def upsert_products(self, products: list[types_pb2.Product]) -> cpb.UpsertProductsResponse:
        return self._call(self.catalog.UpsertProducts, cpb.UpsertProductsRequest(products=products))

    def rerender_catalog(self, **filters: object) -> types_pb2.Job:
        return self._call(self.catalog.RerenderCatalog, cpb.RerenderCatalogRequest(**filters))

    def get_job(self, job_id: str) -> types_pb2.Job:
        return self._call(self.jobs.GetJob, jpb.GetJobRequest(job_id=job_id))

    def cancel_job(self, job_id: str) -> types_pb2.Job:
        return self._call(self.jobs.CancelJob, jpb.CancelJobRequest(job_id=job_id))

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
