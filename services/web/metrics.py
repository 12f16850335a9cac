"""Web studio metrics: HTTP calls by route and status, open live streams, frames by outcome."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

HTTP_REQUESTS = Counter(
    "tryon_web_requests_total", "Studio HTTP requests by route and status.", ["route", "status"]
)
WS_STREAMS = Gauge("tryon_web_streams_active", "Open studio WebSocket streams.")
WS_FRAMES = Counter(
    "tryon_web_stream_frames_total",
    "Studio stream frames by outcome: received, rendered, failed, throttled, refused.",
    ["outcome"],
)
