"""The web service's one way into the platform: the gateway's public gRPC API, called with
the browser's publishable key, exactly as a partner's server would call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.web.errors import WebError
from tryon.v1 import (
    catalog_service_pb2_grpc,
    key_service_pb2,
    key_service_pb2_grpc,
    tryon_service_pb2,
    tryon_service_pb2_grpc,
)

API_KEY_HEADER = "x-api-key"
# Frames and photos are at most a few MB; leave room for the reply's image.
_MAX_MESSAGE = 32 << 20


class GatewayClient:
    def __init__(self, addr: str, timeout_s: float) -> None:
        self._channel = grpc.aio.insecure_channel(
            addr,
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE),
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ],
        )
        self.timeout_s = timeout_s
        self.tryon = tryon_service_pb2_grpc.TryOnServiceStub(self._channel)
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(self._channel)
        self.keys = key_service_pb2_grpc.KeyServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    async def call(self, method: Any, request: Any, key: str) -> Any:
        """One unary call as the key's tenant; gRPC failures become WebError."""
        try:
            return await method(
                request, metadata=((API_KEY_HEADER, key),), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            raise WebError.from_rpc(exc) from None

    async def describe_key(self, key: str) -> key_service_pb2.PublishableKey:
        return await self.call(
            self.keys.DescribePublishableKey, key_service_pb2.DescribePublishableKeyRequest(), key
        )

    def stream_try_on(
        self, requests: AsyncIterator[tryon_service_pb2.StreamTryOnRequest], key: str
    ) -> grpc.aio.StreamStreamCall:
        return self.tryon.StreamTryOn(requests, metadata=((API_KEY_HEADER, key),))

    async def serving(self) -> bool:
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.aio.AioRpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        await self._channel.close()
