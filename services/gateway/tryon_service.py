"""tryon.v1.TryOnService."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import redis.asyncio as aioredis

from services.common.celery_app import (
    ADVISE_TASK,
    RECOMMEND_TASK,
    RECON_QUEUE,
    RECONSTRUCT_TASK,
    RECORD_EVENT_TASK,
    RECORD_TRY_ONS_TASK,
    RECSYS_QUEUE,
    RENDER_QUEUE,
    TRY_ON_TASK,
)
from services.common.payloads import (
    AdviseReply,
    AdviseTask,
    AppliedProduct,
    EventPayload,
    FaceGeometryResult,
    RecommendReply,
    RecommendTask,
    ReconstructReply,
    ReconstructTask,
    RecordEventReply,
    RecordEventTask,
    TryOnEventsTask,
    TryOnReply,
    TryOnTask,
)
from services.common.redis_keys import is_face_id
from services.common.settings import Settings
from services.gateway.advice_proto import (
    MAX_MESSAGE,
    check_advise_k,
    clean_text,
    history_from,
    slots_proto,
)
from services.gateway.authn import Authenticator
from services.gateway.deadlines import remaining_time
from services.gateway.dispatch import TaskDispatcher
from services.gateway.geometry_proto import geometry_proto
from services.gateway.image_input import check_image
from services.gateway.look_proto import look_from_proto, output_format
from services.gateway.metrics import LATENCY, REQUESTS
from services.gateway.recsys_proto import (
    categories_from,
    check_id,
    check_k,
    event_from_request,
    recommendation_proto,
    skin_from_request,
)
from services.gateway.rpc import RpcError, rpc
from services.gateway.selfie_store import SelfieStore, StoredSelfie
from services.gateway.stream_session import StreamSession
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

log = logging.getLogger(__name__)


class TryOnServicer(pb_grpc.TryOnServiceServicer):
    def __init__(
        self,
        settings: Settings,
        authenticator: Authenticator,
        dispatcher: TaskDispatcher,
        selfies: SelfieStore,
        redis_client: aioredis.Redis,
    ) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self._dispatcher = dispatcher
        self._selfies = selfies
        self._redis = redis_client

    async def _store(self, image: types_pb2.Image, tenant: str) -> StoredSelfie:
        check_image(image, self.settings)
        return await self._selfies.put(tenant, image.data)

    async def _forget(self, tenant: str, stored: StoredSelfie | None) -> None:
        """A selfie that failed or was abandoned must not wait for its TTL (unless an earlier
        request of the same tenant stored it and may still use it)."""
        if stored is not None and stored.created:
            await self._selfies.discard(tenant, stored.face_id)

    async def _geometry(
        self, tenant: str, face_id: str, max_faces: int, timeout_s: float
    ) -> FaceGeometryResult:
        reply = await self._dispatcher.request(
            RECONSTRUCT_TASK,
            RECON_QUEUE,
            ReconstructTask,
            ReconstructReply,
            tenant=tenant,
            timeout_s=timeout_s,
            face_id=face_id,
            max_faces=max_faces,
        )
        assert reply.geometry is not None
        return reply.geometry

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
        stored = await self._store(request.image, tenant)
        try:
            geometry = await self._geometry(
                tenant,
                stored.face_id,
                request.max_faces or self.settings.default_max_faces,
                timeout_s,
            )
        except BaseException:  # failed, deadline passed, caller cancelled, Redis gone...
            await asyncio.shield(self._forget(tenant, stored))
            raise
        return pb.ReconstructResponse(geometry=geometry_proto(geometry, stored.expires_in_s))

    @rpc("TryOn")
    async def TryOn(
        self, request: pb.TryOnRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> pb.TryOnResponse:
        timeout_s = remaining_time(context)
        # Everything checkable here is checked before any work is queued.
        look = look_from_proto(request.look)
        fmt, content_type = output_format(request.output_content_type)
        user_id = check_id(request.user_id, "user_id") if request.user_id else ""
        face_index = request.face_index if request.HasField("face_index") else -1
        if face_index < -1:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"face_index is {face_index}; use -1 (every face) or 0..n-1",
            )
        stored: StoredSelfie | None = None
        source = request.WhichOneof("source")
        if source == "image":
            stored = await self._store(request.image, tenant)
            face_id, expires_in_s = stored.face_id, stored.expires_in_s
        elif source == "face_id":
            if not is_face_id(request.face_id):
                raise RpcError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "face_id is malformed: pass the face_id a Reconstruct returned",
                )
            face_id = request.face_id
            expires_in_s = -1
        else:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "set either image or face_id (from an earlier Reconstruct)",
            )
        try:
            # One piece of work: render reads the selfie and recon's cached geometry (or finds
            # the faces itself), paints and encodes; the geometry never comes back here first.
            reply = await self._dispatcher.request(
                TRY_ON_TASK, RENDER_QUEUE, TryOnTask, TryOnReply, tenant=tenant,
                timeout_s=timeout_s, face_id=face_id, look=look,
                face_index=None if face_index < 0 else face_index, output_format=fmt,
                side_by_side=request.side_by_side,
            )  # fmt: skip
            data = await self._redis.getdel(reply.image_key)
            if data is None:
                raise RpcError(
                    grpc.StatusCode.UNAVAILABLE, "the result expired before pickup: retry"
                )
        except BaseException:
            await asyncio.shield(self._forget(tenant, stored))
            raise
        assert reply.geometry is not None
        geometry = reply.geometry
        if expires_in_s < 0:
            expires_in_s = await self._selfies.ttl(tenant, face_id)
        if user_id:
            await self._selfies.remember_user(tenant, user_id, face_id)
            self._record_try_ons(tenant, user_id, look)
        return pb.TryOnResponse(
            image=types_pb2.Image(data=data, content_type=content_type),
            geometry=geometry_proto(geometry, expires_in_s),
        )

    def _record_try_ons(self, tenant: str, user_id: str, look: list[AppliedProduct]) -> None:
        """A TryOn with a user id is a try-on event per product (recorded by recsys; the
        shopper's image is never part of it)."""
        now_ms, batch = int(time.time() * 1000), uuid.uuid4().hex
        events = [
            EventPayload(
                event_id=f"tryon-{batch}-{i}",
                user_id=user_id,
                type="try_on",
                product_id=app.product_id,
                shade_id=app.shade_id,
                occurred_at_ms=now_ms,
            )  # fmt: skip
            for i, app in enumerate(look)
        ]
        task = TryOnEventsTask(tenant=tenant, events=events)
        self._dispatcher.send(RECORD_TRY_ONS_TASK, task.model_dump(mode="json"))

    @rpc("Recommend")
    async def Recommend(
        self, request: pb.RecommendRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> pb.RecommendResponse:
        timeout_s = remaining_time(context)
        k = check_k(request.k)
        categories = categories_from(request)
        shopper = request.WhichOneof("shopper")
        user_id, skin, face_id = "", None, ""
        if shopper == "user_id":
            user_id = check_id(request.user_id, "user_id")
        elif shopper == "skin":
            skin = skin_from_request(request.skin)
        elif shopper == "face_id":
            if not is_face_id(request.face_id):
                raise RpcError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "face_id is malformed: pass the face_id a Reconstruct returned",
                )
            face_id = request.face_id  # recsys reads the face's skin from recon's cache
        else:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "set one of user_id, face_id (from Reconstruct) or skin",
            )
        if request.shopper_user_id:  # a known shopper with a face or skin: history counts too
            shopper_user_id = check_id(request.shopper_user_id, "shopper_user_id")
            if user_id and user_id != shopper_user_id:
                raise RpcError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "user_id and shopper_user_id name different shoppers: send one of them "
                    "(shopper_user_id goes with face_id or skin)",
                )
            user_id = shopper_user_id
        if face_id and user_id:
            await self._selfies.remember_user(tenant, user_id, face_id)
        reply = await self._dispatcher.request(
            RECOMMEND_TASK, RECSYS_QUEUE, RecommendTask, RecommendReply, tenant=tenant,
            timeout_s=timeout_s, user_id=user_id, skin=skin, face_id=face_id,
            categories=categories, k=k,
        )  # fmt: skip
        base_url = self.settings.swatch_base_url
        return pb.RecommendResponse(
            recommendations=[recommendation_proto(r, base_url) for r in reply.recommendations],
            model_version=reply.model_version,
        )

    @rpc("Advise")
    async def Advise(
        self, request: pb.AdviseRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> pb.AdviseResponse:
        timeout_s = remaining_time(context)
        message = clean_text(request.message, "message", MAX_MESSAGE)
        history = history_from(request)
        k = check_advise_k(request.k)
        user_id = check_id(request.user_id, "user_id") if request.user_id else ""
        if request.face_id and not is_face_id(request.face_id):
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "face_id is malformed: pass the face_id a Reconstruct returned",
            )
        if request.render and not request.face_id:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "render needs a face_id: Reconstruct the selfie first, or leave render unset",
            )
        if request.face_id and user_id:
            await self._selfies.remember_user(tenant, user_id, request.face_id)
        reply = await self._dispatcher.request(
            ADVISE_TASK, RECSYS_QUEUE, AdviseTask, AdviseReply, tenant=tenant,
            timeout_s=timeout_s, message=message, face_id=request.face_id, user_id=user_id,
            history=history, render=request.render, k=k,
        )  # fmt: skip
        response = pb.AdviseResponse(
            slots=slots_proto(reply.slots),
            products=[recommendation_proto(r, self.settings.swatch_base_url)
                      for r in reply.products],
            reply=reply.reply,
        )  # fmt: skip
        if reply.image_key:
            data = await self._redis.getdel(reply.image_key)
            if data is None:
                raise RpcError(
                    grpc.StatusCode.UNAVAILABLE, "the look expired before pickup: retry"
                )
            response.image.CopyFrom(types_pb2.Image(data=data, content_type=reply.content_type))
        return response

    @rpc("RecordEvent")
    async def RecordEvent(
        self, request: pb.RecordEventRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> pb.RecordEventResponse:
        event = event_from_request(request)
        reply = await self._dispatcher.request(
            RECORD_EVENT_TASK, RECSYS_QUEUE, RecordEventTask, RecordEventReply, tenant=tenant,
            timeout_s=remaining_time(context), event=event,
        )  # fmt: skip
        return pb.RecordEventResponse(created=reply.created)

    async def StreamTryOn(
        self,
        request_iterator: AsyncIterator[pb.StreamTryOnRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.StreamTryOnResponse]:
        """Live try-on (see stream_session): authenticated and timed like every RPC (a
        publishable key's stream counts as one request against its limit, when it opens)."""
        begin, code = time.perf_counter(), grpc.StatusCode.OK
        try:
            tenant = (await self.authenticator.authenticate(context, "StreamTryOn")).tenant
            session = StreamSession(tenant, self.settings, self._redis)
            async for reply in session.run(request_iterator):
                yield reply
        except RpcError as exc:
            code = exc.code
            await context.abort(exc.code, exc.message)
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED  # the client left
            raise
        except Exception as exc:
            if isinstance(exc, grpc.aio.AbortError):
                raise
            code = grpc.StatusCode.INTERNAL
            log.exception("StreamTryOn failed")
            await context.abort(code, "internal error; retry later")
        finally:
            REQUESTS.labels("StreamTryOn", code.name).inc()
            LATENCY.labels("StreamTryOn", code.name).observe(time.perf_counter() - begin)
