"""The shape every interactive task shares: parse the payload, run, push exactly one reply to
the gateway's reply key, record latency and failures. Errors become replies, never crashes:
a bad image must not take a worker down, and its bytes must never reach a log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from services.common.errors import ErrorCode, TryonError
from services.common.payloads import TaskEnvelope, TaskFailure, TaskReply

log = logging.getLogger(__name__)

# A reply nobody picked up (the caller gave up) disappears on its own; it may hold face
# geometry, so it never outlives the selfie's TTL either.
MAX_REPLY_TTL_S = 60

TASK_SECONDS = Histogram(
    "tryon_task_duration_seconds",
    "Task run time in the worker, by task and outcome.",
    ["task", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASK_FAILURES = Counter(
    "tryon_task_failures_total", "Tasks that ended in an error, by task and code.", ["task", "code"]
)

P = TypeVar("P", bound=TaskEnvelope)
R = TypeVar("R", bound=TaskReply)


def push_reply(client: redis.Redis, reply_key: str, reply: TaskReply, ttl_s: int) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.rpush(reply_key, reply.model_dump_json(exclude_none=True))
    pipe.expire(reply_key, min(ttl_s, MAX_REPLY_TTL_S))
    pipe.execute()


def run_interactive(
    task_name: str,
    client: redis.Redis,
    raw_payload: dict[str, Any],
    payload_type: type[P],
    reply_type: type[R],
    handler: Callable[[P], R],
    reply_ttl_s: int,
) -> dict[str, str | None]:
    """Returns a small summary (the task's Celery return value); the real answer is the reply."""
    begin = time.perf_counter()
    try:
        payload = payload_type.model_validate(raw_payload)
    except ValidationError as exc:
        # A malformed message cannot be answered (no trustworthy reply key): drop it loudly.
        log.error("%s: dropped malformed payload: %s", task_name, exc.errors(include_input=False))
        TASK_FAILURES.labels(task_name, "MALFORMED").inc()
        return {"error_code": "MALFORMED"}
    reply: TaskReply
    try:
        reply = handler(payload)
    except TryonError as exc:
        reply = reply_type(error=TaskFailure(code=exc.code, message=exc.message))
    except Exception:
        # Unknown failure: log the stack (no payload data in it), answer INTERNAL.
        log.exception("%s failed for request %s", task_name, payload.request_id)
        reply = reply_type(
            error=TaskFailure(code=ErrorCode.INTERNAL, message="internal error; retry later")
        )
    push_reply(client, payload.reply_key, reply, reply_ttl_s)
    code = reply.error.code.value if reply.error else None
    TASK_SECONDS.labels(task_name, "error" if code else "ok").observe(time.perf_counter() - begin)
    if code:
        TASK_FAILURES.labels(task_name, code).inc()
    return {"error_code": code}
