"""What a publishable key allows in a browser: which origins may use it (checked on every HTTP
call and WebSocket), and the Content-Security-Policy of the studio page it opens."""

from __future__ import annotations

import time
from dataclasses import dataclass

from services.web.errors import WebError
from services.web.gateway_client import GatewayClient

PUBLISHABLE_PREFIX = "pk_"
_MAX_KEY_LENGTH = 128
_MAX_CACHED = 1024


@dataclass(frozen=True)
class KeyInfo:
    key: str
    key_id: str
    allowed_origins: tuple[str, ...]
    requests_per_minute: int


def check_key_format(key: str | None) -> str:
    if not key:
        raise WebError(
            401, "UNAUTHENTICATED",
            "no publishable key: open the studio with ?key=pk_... (create one with "
            "`tryon keys create --origin https://your.shop`)",
        )  # fmt: skip
    if not key.startswith(PUBLISHABLE_PREFIX) or len(key) > _MAX_KEY_LENGTH:
        raise WebError(
            401, "UNAUTHENTICATED",
            "only a publishable key (pk_...) may be used in a browser; never put your secret "
            "key in a web page: create a publishable key with `tryon keys create`",
        )  # fmt: skip
    return key


class KeyPolicy:
    def __init__(self, gateway: GatewayClient, ttl_s: float) -> None:
        self._gateway = gateway
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, KeyInfo]] = {}

    async def info(self, key: str | None) -> KeyInfo:
        """The key's settings from the gateway (which also proves the key is live)."""
        key = check_key_format(key)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        described = await self._gateway.describe_key(key)
        info = KeyInfo(
            key=key,
            key_id=described.key_id,
            allowed_origins=tuple(described.allowed_origins),
            requests_per_minute=described.requests_per_minute,
        )
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()  # a flood of distinct keys must not grow memory
        self._cache[key] = (now + self._ttl_s, info)
        return info

    def forget(self, key: str) -> None:
        """The gateway refused the key (revoked): stop vouching for it at once."""
        self._cache.pop(key, None)

    @staticmethod
    def check_origin(info: KeyInfo, origin: str | None, own_origin: str) -> None:
        """A browser names the page that made a request in Origin: our own studio page, or a
        partner's page the key allows. No Origin: not a cross-origin browser request."""
        if origin is None or origin == own_origin or origin in info.allowed_origins:
            return
        raise WebError(
            403, "PERMISSION_DENIED",
            f"origin {origin} may not use this key: add it to the key's allowed origins "
            f"(tryon keys create --origin {origin})",
        )  # fmt: skip


def studio_csp(info: KeyInfo | None, own_host: str, secure: bool) -> str:
    """No inline code, nothing from elsewhere, and only the key's origins may frame the page."""
    ws = f"{'wss' if secure else 'ws'}://{own_host}"
    ancestors = " ".join(("'self'", *info.allowed_origins)) if info else "'none'"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            # Partners may host their swatch images on their own CDN (https only).
            "img-src 'self' blob: data: https:",
            "media-src 'self' blob: mediastream:",
            f"connect-src 'self' {ws}",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {ancestors}",
        )
    )
