"""The web studio's settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from services.common.settings import env_int


@dataclass(frozen=True)
class WebSettings:
    # Where the studio listens (host:port) and the gateway it calls, like any partner.
    listen_addr: str = "127.0.0.1:8080"
    gateway_addr: str = "127.0.0.1:50051"
    # Rate limits per browser (client address) and publishable key, shared by every web
    # replica through Redis: HTTP API calls and stream openings per minute, frames per second.
    redis_url: str = "redis://127.0.0.1:6379/0"
    requests_per_minute: int = 240
    streams_per_minute: int = 12
    max_stream_fps: int = 60
    # Request bodies: a photo upload, one live frame (bytes) and its size (pixels, checked
    # again by the gateway).
    max_photo_bytes: int = 8 * 1024 * 1024
    max_frame_bytes: int = 4 * 1024 * 1024
    # How long a key's origins and limits are reused before asking the gateway again (a
    # revoked key is refused by the gateway itself on its next call).
    key_cache_ttl_s: int = 10
    gateway_timeout_s: int = 30
    # The gateway's TRYON_SWATCH_BASE_URL: swatch addresses under it are served here.
    swatch_base_url: str = ""

    @property
    def host(self) -> str:
        return self.listen_addr.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen_addr.rsplit(":", 1)[1])

    @classmethod
    def from_env(cls) -> WebSettings:
        return cls(
            listen_addr=os.environ.get("TRYON_WEB_ADDR", cls.listen_addr),
            gateway_addr=os.environ.get("TRYON_GRPC_ADDR", cls.gateway_addr),
            redis_url=os.environ.get("REDIS_URL", cls.redis_url),
            requests_per_minute=env_int("TRYON_WEB_REQUESTS_PER_MINUTE", 240, 1, 1_000_000),
            streams_per_minute=env_int("TRYON_WEB_STREAMS_PER_MINUTE", 12, 1, 10_000),
            max_stream_fps=env_int("TRYON_WEB_MAX_STREAM_FPS", 60, 1, 240),
            max_photo_bytes=env_int("TRYON_WEB_MAX_PHOTO_BYTES", 8 << 20, 1024, 64 << 20),
            max_frame_bytes=env_int("TRYON_WEB_MAX_FRAME_BYTES", 4 << 20, 1024, 64 << 20),
            key_cache_ttl_s=env_int("TRYON_WEB_KEY_CACHE_TTL_S", 10, 0, 3600),
            gateway_timeout_s=env_int("TRYON_WEB_GATEWAY_TIMEOUT_S", 30, 1, 600),
            swatch_base_url=os.environ.get("TRYON_SWATCH_BASE_URL", "").strip(),
        )
