"""tryon.v1.PrivacyService: a shopper's data deleted on request (recsys owns the events and
does the deleting: events, selfies and face data, then a retrain without them)."""

from __future__ import annotations

import grpc

from services.common.celery_app import DELETE_USER_DATA_TASK, RECSYS_QUEUE
from services.common.payloads import DeleteUserDataReply, DeleteUserDataTask
from services.common.redis_keys import is_face_id
from services.gateway.authn import Authenticator
from services.gateway.deadlines import remaining_time
from services.gateway.dispatch import TaskDispatcher
from services.gateway.recsys_proto import check_id
from services.gateway.rpc import RpcError, rpc
from tryon.v1 import privacy_service_pb2 as ppb
from tryon.v1 import privacy_service_pb2_grpc as ppb_grpc

MAX_FACE_IDS = 100


def _invalid(message: str) -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


class PrivacyServicer(ppb_grpc.PrivacyServiceServicer):
    def __init__(self, authenticator: Authenticator, dispatcher: TaskDispatcher) -> None:
        self.authenticator = authenticator
        self._dispatcher = dispatcher

    @rpc("DeleteUserData")
    async def DeleteUserData(
        self, request: ppb.DeleteUserDataRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> ppb.DeleteUserDataResponse:
        user_id = check_id(request.user_id, "user_id") if request.user_id else ""
        if len(request.face_ids) > MAX_FACE_IDS:
            raise _invalid(f"{len(request.face_ids)} face_ids; send at most {MAX_FACE_IDS} a call")
        if not all(is_face_id(face_id) for face_id in request.face_ids):
            raise _invalid("a face_id is malformed: pass face_ids that Reconstruct returned")
        if not user_id and not request.face_ids:
            raise _invalid("name the shopper: set user_id, face_ids, or both")
        reply = await self._dispatcher.request(
            DELETE_USER_DATA_TASK, RECSYS_QUEUE, DeleteUserDataTask, DeleteUserDataReply,
            tenant=tenant, timeout_s=remaining_time(context), user_id=user_id,
            face_ids=sorted(set(request.face_ids)),
        )  # fmt: skip
        return ppb.DeleteUserDataResponse(
            deleted_events=reply.deleted_events, deleted_faces=reply.deleted_faces
        )
