"""The web studio as an ASGI app: pages, the browser API and the live-frame WebSocket."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from services.web import json_api, pages
from services.web.context import WebContext
from services.web.gateway_client import GatewayClient
from services.web.key_policy import KeyPolicy
from services.web.metrics import HTTP_REQUESTS
from services.web.rate_limit import BrowserRateLimiter
from services.web.settings import WebSettings
from services.web.stream_bridge import stream_endpoint


async def preflight(request: Request) -> Response:
    """CORS preflight: it carries no key, so it only says which headers may follow; the real
    request is then checked against the key's allowed origins."""
    origin = request.headers.get("origin", "")
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type, X-Tryon-Key",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


class RequestMetrics:
    """Counts every HTTP response by route template (never by raw path: ids would explode it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            HTTP_REQUESTS.labels(getattr(route, "path", "other"), str(status["code"])).inc()


def create_app(settings: WebSettings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        gateway = GatewayClient(settings.gateway_addr, settings.gateway_timeout_s)
        redis = aioredis.Redis.from_url(settings.redis_url)
        app.state.ctx = WebContext(
            settings=settings,
            gateway=gateway,
            keys=KeyPolicy(gateway, settings.key_cache_ttl_s),
            limiter=BrowserRateLimiter(redis),
        )
        app.state.facets = json_api.FacetCache()
        try:
            yield
        finally:
            await gateway.close()
            await redis.aclose()

    routes = [
        Route("/", pages.index),
        Route("/studio", pages.studio),
        Route("/embed.js", pages.embed_script),
        Route("/static/{name}", pages.static_file),
        Route("/swatches/{tenant}/{product_id}.png", pages.swatch),
        Route("/healthz", pages.healthz),
        Route("/api/v1/{path:path}", preflight, methods=["OPTIONS"]),
        Route("/api/v1/key", json_api.describe_key),
        Route("/api/v1/products", json_api.list_products),
        Route("/api/v1/products/{product_id}", json_api.get_product),
        Route("/api/v1/facets", json_api.facets),
        Route("/api/v1/photo", json_api.photo, methods=["POST"]),
        Route("/api/v1/tryon", json_api.try_on, methods=["POST"]),
        Route("/api/v1/recommendations", json_api.recommend, methods=["POST"]),
        Route("/api/v1/events", json_api.record_event, methods=["POST"]),
        Route("/api/v1/advise", json_api.advise, methods=["POST"]),
        WebSocketRoute("/api/v1/stream", stream_endpoint),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestMetrics)
    return app
