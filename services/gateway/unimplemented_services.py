"""Services of the published API whose RPCs a later release implements. They authenticate like
every other RPC, then answer UNIMPLEMENTED — never a fake answer."""

from __future__ import annotations

from typing import Any

from services.gateway.authn import Authenticator
from services.gateway.rpc import rpc, unimplemented
from tryon.v1 import privacy_service_pb2_grpc


def _not_yet(method: str) -> Any:
    @rpc(method)
    async def handler(self: Any, request: Any, context: Any, tenant: str) -> Any:
        raise unimplemented(method)

    return handler


class PrivacyServicer(privacy_service_pb2_grpc.PrivacyServiceServicer):
    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    DeleteUserData = _not_yet("DeleteUserData")
