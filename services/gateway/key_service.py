"""tryon.v1.KeyService: publishable keys (publishable_keys.py), managed with the tenant's
secret key and described with the publishable key itself. The authenticator (authn.py) keeps
publishable keys out of Create/List/Revoke; the database runs on worker threads."""

from __future__ import annotations

import asyncio
import logging

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.gateway.authn import Authenticator, Principal
from services.gateway.publishable_keys import (
    PublishableKeyRecord,
    PublishableKeyStore,
    is_key_id,
)
from services.gateway.rpc import RpcError, api_key_from, rpc
from tryon.v1 import key_service_pb2 as kpb
from tryon.v1 import key_service_pb2_grpc as kpb_grpc

log = logging.getLogger(__name__)


def key_proto(record: PublishableKeyRecord, plain_key: str = "") -> kpb.PublishableKey:
    created = Timestamp()
    created.FromDatetime(record.created_at)
    message = kpb.PublishableKey(
        key_id=record.key_id,
        key=plain_key,
        allowed_origins=list(record.allowed_origins),
        requests_per_minute=record.requests_per_minute,
        label=record.label,
        created_at=created,
    )
    if record.revoked_at is not None:
        message.revoked_at.FromDatetime(record.revoked_at)
    return message


class KeyServicer(kpb_grpc.KeyServiceServicer):
    def __init__(self, authenticator: Authenticator, store: PublishableKeyStore) -> None:
        self.authenticator = authenticator
        self._store = store

    @rpc("CreatePublishableKey")
    async def CreatePublishableKey(
        self,
        request: kpb.CreatePublishableKeyRequest,
        context: grpc.aio.ServicerContext,
        tenant: str,
    ) -> kpb.PublishableKey:
        record, plain = await asyncio.to_thread(
            self._store.create,
            tenant,
            list(request.allowed_origins),
            request.requests_per_minute,
            request.label,
        )
        log.info("tenant %s created publishable key %s", tenant, record.key_id)
        return key_proto(record, plain)

    @rpc("ListPublishableKeys")
    async def ListPublishableKeys(
        self,
        request: kpb.ListPublishableKeysRequest,
        context: grpc.aio.ServicerContext,
        tenant: str,
    ) -> kpb.ListPublishableKeysResponse:
        records = await asyncio.to_thread(self._store.list, tenant)
        return kpb.ListPublishableKeysResponse(keys=[key_proto(r) for r in records])

    @rpc("RevokePublishableKey")
    async def RevokePublishableKey(
        self,
        request: kpb.RevokePublishableKeyRequest,
        context: grpc.aio.ServicerContext,
        tenant: str,
    ) -> kpb.PublishableKey:
        key_id = request.key_id.strip()
        if not is_key_id(key_id):
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "key_id is empty or malformed: pass the key_id ('pkid_...') that "
                "CreatePublishableKey or ListPublishableKeys returned (not the key itself)",
            )
        record = await asyncio.to_thread(self._store.revoke, tenant, key_id)
        if record is None:  # another tenant's key is "not found" too: ids reveal nothing
            raise RpcError(
                grpc.StatusCode.NOT_FOUND,
                f"no publishable key {key_id} for this tenant: ListPublishableKeys shows yours",
            )
        log.info("tenant %s revoked publishable key %s", tenant, key_id)
        return key_proto(record)

    @rpc("DescribePublishableKey", principal=True)
    async def DescribePublishableKey(
        self,
        request: kpb.DescribePublishableKeyRequest,
        context: grpc.aio.ServicerContext,
        principal: Principal,
    ) -> kpb.PublishableKey:
        if not principal.is_publishable:
            raise RpcError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "DescribePublishableKey describes the publishable key (pk_...) it is called "
                "with, and this call used a secret key: call it with the publishable key, or "
                "use ListPublishableKeys with your secret key",
            )
        # The authenticator just looked the key up: this is a cache hit, not a query.
        record = await self._store.lookup_async(api_key_from(context) or "")
        if record is None:  # revoked in between
            raise RpcError(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing, unknown or revoked API key: this publishable key was just revoked",
            )
        return key_proto(record)
