"""Images from API messages (a selfie, a stream frame), checked at the edge: size, format,
truncation, declared dimensions, content type. Nothing is decoded here."""

from __future__ import annotations

import grpc

from services.common.errors import InvalidImageError
from services.common.image_codec import inspect_image
from services.common.settings import Settings
from services.gateway.rpc import RpcError
from tryon.v1 import types_pb2


def check_image(image: types_pb2.Image, settings: Settings, max_pixels: int = 0) -> None:
    """Everything that can be refused without decoding pixels, refused before any work is queued
    (`max_pixels`: a tighter pixel limit, e.g. a stream frame's)."""
    size = len(image.data)
    if size > settings.max_image_bytes:
        raise RpcError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"image is {size} bytes; the limit is {settings.max_image_bytes} bytes "
            f"({settings.max_image_bytes / 2**20:.0f} MiB): downscale or recompress it",
        )
    try:
        info = inspect_image(image.data, max_pixels or settings.max_image_pixels)
    except InvalidImageError as exc:
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, exc.message) from None
    declared = image.content_type.strip().lower()
    if (
        declared
        and declared != info.content_type
        and not (declared == "image/jpg" and info.content_type == "image/jpeg")
    ):
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"image.content_type is {declared!r} but the bytes are {info.content_type}: "
            "fix the content type or leave it empty",
        )
