"""What every request of the web service shares: settings, the gateway client, the key policy
and the browser rate limiter (one set per process, built at start-up)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from services.web.errors import WebError
from services.web.gateway_client import GatewayClient
from services.web.key_policy import KeyInfo, KeyPolicy
from services.web.rate_limit import BrowserRateLimiter
from services.web.settings import WebSettings

KEY_HEADER = "x-tryon-key"


@dataclass(frozen=True)
class WebContext:
    settings: WebSettings
    gateway: GatewayClient
    keys: KeyPolicy
    limiter: BrowserRateLimiter


def context_of(conn: HTTPConnection) -> WebContext:
    return conn.app.state.ctx  # type: ignore[no-any-return]


def own_origin(conn: HTTPConnection) -> str:
    """This service's origin as the browser sees it (the Host it asked for)."""
    scheme = {"ws": "http", "wss": "https"}.get(conn.url.scheme, conn.url.scheme)
    return f"{scheme}://{conn.headers.get('host', conn.url.netloc)}"


def presented_key(conn: HTTPConnection) -> str | None:
    return conn.headers.get(KEY_HEADER) or conn.query_params.get("key")


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


async def authorize(conn: HTTPConnection, bucket: str = "http") -> KeyInfo:
    """The checks every browser call passes: a live publishable key, an origin it allows, and
    this browser's budget."""
    ctx = context_of(conn)
    info = await ctx.keys.info(presented_key(conn))
    ctx.keys.check_origin(info, conn.headers.get("origin"), own_origin(conn))
    if bucket == "stream":
        limit, what = ctx.settings.streams_per_minute, "live streams opened"
    elif bucket == "swatch":  # a catalog page shows dozens of swatches at once
        limit, what = 10 * ctx.settings.requests_per_minute, "swatch images"
    else:
        limit, what = ctx.settings.requests_per_minute, "requests"
    await ctx.limiter.hit(bucket, info.key_id, client_address(conn), limit, what)
    return info


def cors_headers(conn: HTTPConnection, info: KeyInfo | None) -> dict[str, str]:
    """CORS only for a partner page the key allows (our own page needs none)."""
    origin = conn.headers.get("origin")
    if info is None or origin is None or origin not in info.allowed_origins:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


__all__ = ["KEY_HEADER", "WebContext", "WebError", "authorize", "context_of", "cors_headers"]
