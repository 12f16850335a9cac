"""Process settings, read once from the environment (see the README's configuration table)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

# Selfies are biometric data: they never outlive this, whatever the configuration says.
MAX_IMAGE_TTL_SECONDS = 15 * 60


def env_int(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if not minimum <= value <= maximum:
        raise ValueError(f"{name}={value} is out of range: expected {minimum}..{maximum}")
    return value


def _env_base_url(name: str) -> str:
    """An http(s) URL without a trailing slash, or "" when unset."""
    raw = os.environ.get(name, "").strip().rstrip("/")
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"{name}={raw!r} is not an http(s) base URL like https://studio.example/swatches"
        )
    return raw


@dataclass(frozen=True)
class Settings:
    redis_url: str
    grpc_addr: str
    # Seconds a stored selfie (and the face geometry derived from it) lives in Redis.
    image_ttl_seconds: int
    max_image_bytes: int
    # Declared width x height above this is refused before decoding (decompression bombs).
    max_image_pixels: int
    # Upper bound of faces per image; requests may ask for fewer.
    max_faces: int
    # Default for a request that does not say (ReconstructRequest.max_faces = 0).
    default_max_faces: int
    # Live streams: a stream with no message for this long is ended; a frame not rendered
    # within this long is given up (its worker died: the stream moves on); open streams per
    # tenant; the largest frame (width x height).
    stream_idle_timeout_s: int = 30
    stream_frame_timeout_ms: int = 1000
    max_streams_per_tenant: int = 8
    max_stream_frame_pixels: int = 3840 * 2160
    # Where the web studio serves rendered swatches: tryon://swatch/<tenant>/<product_id>
    # becomes {swatch_base_url}/<tenant>/<product_id>.png. Empty: tryon:// references as is.
    swatch_base_url: str = ""
    # Publishable keys: how long a gateway trusts its cached lookup of a key (a revocation
    # takes effect on every gateway within this many seconds).
    key_cache_ttl_s: int = 5

    @classmethod
    def from_env(cls) -> Settings:
        max_faces = env_int("TRYON_MAX_FACES", 5, 1, 20)
        return cls(
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            grpc_addr=os.environ.get("TRYON_GRPC_ADDR", "127.0.0.1:50051"),
            image_ttl_seconds=env_int("TRYON_IMAGE_TTL_SECONDS", 600, 1, MAX_IMAGE_TTL_SECONDS),
            max_image_bytes=env_int("TRYON_MAX_IMAGE_BYTES", 15 * 1024 * 1024, 1024, 64 << 20),
            max_image_pixels=env_int("TRYON_MAX_IMAGE_PIXELS", 50_000_000, 10_000, 400_000_000),
            max_faces=max_faces,
            default_max_faces=min(max_faces, env_int("TRYON_DEFAULT_MAX_FACES", 5, 1, 20)),
            stream_idle_timeout_s=env_int("TRYON_STREAM_IDLE_TIMEOUT_S", 30, 1, 3600),
            stream_frame_timeout_ms=env_int("TRYON_STREAM_FRAME_TIMEOUT_MS", 1000, 50, 60_000),
            max_streams_per_tenant=env_int("TRYON_MAX_STREAMS_PER_TENANT", 8, 1, 10_000),
            max_stream_frame_pixels=env_int(
                "TRYON_MAX_STREAM_FRAME_PIXELS", 3840 * 2160, 10_000, 50_000_000
            ),
            swatch_base_url=_env_base_url("TRYON_SWATCH_BASE_URL"),
            key_cache_ttl_s=env_int("TRYON_KEY_CACHE_TTL_S", 5, 0, 300),
        )
