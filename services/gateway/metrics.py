"""Gateway metrics: requests and latency by method and status code, and queue depths."""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.common.celery_app import QUEUES

REQUESTS = Counter(
    "tryon_grpc_requests_total", "gRPC requests by method and status code.", ["method", "code"]
)
LATENCY = Histogram(
    "tryon_grpc_request_duration_seconds",
    "gRPC request latency by method and status code.",
    ["method", "code"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
)

# Live streams (StreamTryOn).
STREAMS_ACTIVE = Gauge("tryon_streams_active", "Open StreamTryOn streams.")
STREAM_FRAMES = Counter(
    "tryon_stream_frames_total",
    "Stream frames by outcome: received, rendered, failed (a per-frame error), dropped (stale "
    "or lost).",
    ["outcome"],
)
STREAM_FRAME_SECONDS = Histogram(
    "tryon_stream_frame_latency_seconds",
    "A stream frame from its receipt to its reply (queue, worker and transport included).",
    buckets=(0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2),
)


class QueueDepthCollector(Collector):
    """Messages waiting per Celery queue, read at scrape time (the autoscaling signal)."""

    def __init__(self, redis_url: str) -> None:
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=1)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "tryon_queue_depth", "Messages waiting per queue.", labels=["queue"]
        )
        try:
            pipe = self._redis.pipeline(transaction=False)
            for queue in QUEUES:
                pipe.llen(queue)
            for queue, depth in zip(QUEUES, pipe.execute(), strict=True):
                gauge.add_metric([queue], depth)
        except redis.RedisError:
            pass  # a scrape must not fail because Redis is briefly away
        yield gauge
