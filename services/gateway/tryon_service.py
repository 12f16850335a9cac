"""tryon.v1.TryOnService."""

from __future__ import annotations

import asyncio

import grpc
from celery import Celery

from services.common.celery_app import RECON_QUEUE, RECONSTRUCT_TASK
from services.common.errors import InvalidImageError
from services.common.image_codec import inspect_image
from services.common.payloads import ReconstructTask
from services.common.settings import Settings
from services.gateway.auth import ApiKeyStore
from services.gateway.dispatch import DeadlineExceeded, TaskDispatcher
from services.gateway.geometry_proto import geometry_proto
from services.gateway.rpc import RpcError, api_key_from, rpc, unimplemented
from services.gateway.selfie_store import SelfieStore, StoredSelfie
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

# Used when the caller sets no deadline: nobody should wait on us forever.
DEFAULT_TIMEOUT_S = 30.0
# Below this, the work cannot finish: fail fast instead of queueing it.
MIN_TIMEOUT_S = 0.005


def remaining_time(context: grpc.aio.ServicerContext) -> float:
    remaining = context.time_remaining()
    if remaining is None:
        return DEFAULT_TIMEOUT_S
    if remaining < MIN_TIMEOUT_S:
        raise RpcError(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            f"deadline too short ({remaining * 1000:.0f} ms left on arrival): allow at least "
            "1 s for a Reconstruct of an uncached image",
        )
    return min(remaining, DEFAULT_TIMEOUT_S * 10)


def check_image(image: types_pb2.Image, settings: Settings) -> None:
    """Everything that can be refused without decoding pixels, refused before any work is queued."""
    size = len(image.data)
    if size > settings.max_image_bytes:
        raise RpcError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"image is {size} bytes; the limit is {settings.max_image_bytes} bytes "
            f"({settings.max_image_bytes / 2**20:.0f} MiB): downscale or recompress it",
        )
    try:
        info = inspect_image(image.data, settings.max_image_pixels)
    except InvalidImageError as exc:
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, exc.message) from None
    declared = image.content_type.strip().lower()
    if declared and declared != info.content_type and not (
        declared == "image/jpg" and info.content_type == "image/jpeg"
    ):
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"image.content_type is {declared!r} but the bytes are {info.content_type}: "
            "fix the content type or leave it empty",
        )


class TryOnServicer(pb_grpc.TryOnServiceServicer):
    def __init__(
        self,
        settings: Settings,
        api_keys: ApiKeyStore,
        dispatcher: TaskDispatcher,
        selfies: SelfieStore,
    ) -> None:
        self.settings = settings
        self.api_keys = api_keys
        self._dispatcher = dispatcher
        self._selfies = selfies

    @rpc("Reconstruct")
    async def Reconstruct(
        self, request: pb.ReconstructRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> pb.ReconstructResponse:
        timeout_s = remaining_time(context)
        if request.max_faces < 0 or request.max_faces > self.settings.max_faces:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"max_faces is {request.max_faces}; use 1..{self.settings.max_faces} "
                "(0 for the default)",
            )
        check_image(request.image, self.settings)
        stored = await self._selfies.put(tenant, request.image.data)
        dispatch = TaskDispatcher.new_dispatch()
        task = ReconstructTask(
            request_id=dispatch.request_id,
            tenant=tenant,
            reply_key=dispatch.reply_key,
            face_id=stored.face_id,
            max_faces=request.max_faces or self.settings.default_max_faces,
        )
        try:
            reply = await self._dispatcher.call(
                RECONSTRUCT_TASK, RECON_QUEUE, dispatch, task.model_dump(mode="json"), timeout_s
            )
        except DeadlineExceeded:
            await self._forget(tenant, stored)
            raise RpcError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"no result within the deadline ({timeout_s:.3f} s): retry with a longer one",
            ) from None
        except BaseException:  # cancelled by the caller, Redis gone...
            await asyncio.shield(self._forget(tenant, stored))
            raise
        if reply.error is not None:
            await self._forget(tenant, stored)
            raise RpcError.from_tryon(reply.error.to_error())
        assert reply.geometry is not None
        return pb.ReconstructResponse(geometry=geometry_proto(reply.geometry, stored.expires_in_s))

    async def _forget(self, tenant: str, stored: StoredSelfie) -> None:
        """A selfie that failed or was abandoned must not wait for its TTL (unless an earlier
        request of the same tenant stored it and may still use it)."""
        if stored.created:
            await self._selfies.discard(tenant, stored.face_id)

    @rpc("TryOn")
    async def TryOn(self, request, context, tenant):  # type: ignore[no-untyped-def]
        raise unimplemented("TryOn")

    @rpc("Recommend")
    async def Recommend(self, request, context, tenant):  # type: ignore[no-untyped-def]
        raise unimplemented("Recommend")

    @rpc("RecordEvent")
    async def RecordEvent(self, request, context, tenant):  # type: ignore[no-untyped-def]
        raise unimplemented("RecordEvent")

    async def StreamTryOn(self, request_iterator, context):  # type: ignore[no-untyped-def]
        # Streaming RPCs authenticate the same way before refusing.
        if self.api_keys.tenant_for(api_key_from(context)) is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or unknown API key")
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "StreamTryOn is not implemented yet")
