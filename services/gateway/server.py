"""Builds and runs the gateway's grpc.aio server: API services, health, reflection, metrics."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import REGISTRY, start_http_server

from services.common.celery_app import app as celery_app
from services.common.errors import TryonError
from services.common.settings import Settings
from services.gateway.auth import ApiKeyStore
from services.gateway.authn import Authenticator
from services.gateway.catalog_service import CatalogServicer, JobServicer
from services.gateway.dispatch import TaskDispatcher
from services.gateway.key_service import KeyServicer
from services.gateway.metrics import QueueDepthCollector
from services.gateway.privacy_service import PrivacyServicer
from services.gateway.publishable_keys import PublishableKeyStore
from services.gateway.selfie_store import SelfieStore
from services.gateway.tryon_service import TryOnServicer
from tryon.v1 import (
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    job_service_pb2,
    job_service_pb2_grpc,
    key_service_pb2,
    key_service_pb2_grpc,
    privacy_service_pb2,
    privacy_service_pb2_grpc,
    tryon_service_pb2,
    tryon_service_pb2_grpc,
)

log = logging.getLogger(__name__)

METRICS_PORT = 9100
HEALTH_CHECK_INTERVAL_S = 5.0
SERVICE_NAMES = (
    tryon_service_pb2.DESCRIPTOR.services_by_name["TryOnService"].full_name,
    catalog_service_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
    job_service_pb2.DESCRIPTOR.services_by_name["JobService"].full_name,
    privacy_service_pb2.DESCRIPTOR.services_by_name["PrivacyService"].full_name,
    key_service_pb2.DESCRIPTOR.services_by_name["KeyService"].full_name,
)


async def _watch_redis(client: aioredis.Redis, health_servicer: health.aio.HealthServicer) -> None:
    """NOT_SERVING while Redis is unreachable, so load balancers route elsewhere."""
    while True:
        try:
            await client.ping()
            status = health_pb2.HealthCheckResponse.SERVING
        except Exception:
            status = health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *SERVICE_NAMES):
            await health_servicer.set(name, status)
        await asyncio.sleep(HEALTH_CHECK_INTERVAL_S)


async def serve(settings: Settings, api_keys: ApiKeyStore) -> None:
    client = aioredis.Redis.from_url(settings.redis_url)
    # Room for the largest accepted image plus the envelope; beyond it gRPC itself refuses.
    max_message = 2 * settings.max_image_bytes + (1 << 20)
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_message),
            ("grpc.max_send_message_length", max_message),
        ]
    )
    dispatcher = TaskDispatcher(celery_app, client)
    selfies = SelfieStore(client, settings.image_ttl_seconds)
    # Publishable keys live in the platform's database (DATABASE_URL); the table is created
    # now if missing (and again on first use, should the database be down at start).
    publishable = PublishableKeyStore(cache_ttl_s=settings.key_cache_ttl_s)
    try:
        await asyncio.to_thread(publishable.ensure_schema)
    except TryonError:
        log.warning("key database unavailable at start: publishable keys fail until it is back")
    authenticator = Authenticator(api_keys, publishable, client)
    tryon_service_pb2_grpc.add_TryOnServiceServicer_to_server(
        TryOnServicer(settings, authenticator, dispatcher, selfies, client), server
    )
    catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(
        CatalogServicer(authenticator, dispatcher), server
    )
    job_service_pb2_grpc.add_JobServiceServicer_to_server(
        JobServicer(authenticator, dispatcher), server
    )
    privacy_service_pb2_grpc.add_PrivacyServiceServicer_to_server(
        PrivacyServicer(authenticator, dispatcher), server
    )
    key_service_pb2_grpc.add_KeyServiceServicer_to_server(
        KeyServicer(authenticator, publishable), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    server.add_insecure_port(settings.grpc_addr)

    REGISTRY.register(QueueDepthCollector(settings.redis_url))
    metrics_port = int(os.environ.get("TRYON_METRICS_PORT", METRICS_PORT))
    start_http_server(metrics_port, addr=os.environ.get("TRYON_METRICS_ADDR", "127.0.0.1"))

    await server.start()
    watcher = asyncio.create_task(_watch_redis(client, health_servicer))
    log.info("gateway listening on %s, metrics on :%d", settings.grpc_addr, metrics_port)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: draining in-flight calls")
    await health_servicer.enter_graceful_shutdown()
    await server.stop(grace=5)
    watcher.cancel()
    await client.aclose()
    publishable.dispose()


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("TRYON_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(serve(Settings.from_env(), ApiKeyStore.from_env()))
