"""Synchronous request/reply over the queues, for a service that needs another service's
answer inside its own task (e.g. a batch job asking recon for reference faces)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import redis
from celery import Celery

from services.common.errors import ErrorCode, TryonError
from services.common.payloads import TaskEnvelope, TaskReply
from services.common.redis_keys import reply_key

T = TypeVar("T", bound=TaskEnvelope)
R = TypeVar("R", bound=TaskReply)


def call_task(
    app: Celery,
    client: redis.Redis,
    task_name: str,
    queue: str,
    task_type: type[T],
    reply_type: type[R],
    *,
    tenant: str,
    timeout_s: float,
    **fields: Any,
) -> R:
    """Returns the reply, or raises TryonError (the task's own error, or UNAVAILABLE)."""
    request_id = uuid.uuid4().hex
    task = task_type(
        request_id=request_id, tenant=tenant, reply_key=reply_key(request_id), **fields
    )
    app.send_task(
        task_name,
        kwargs={"payload": task.model_dump(mode="json")},
        queue=queue,
        expires=timeout_s,
        task_id=request_id,
    )
    popped = client.blpop([task.reply_key], timeout=timeout_s)
    if popped is None:
        raise TryonError(ErrorCode.UNAVAILABLE, f"{task_name} gave no answer in {timeout_s:.0f} s")
    reply = reply_type.model_validate_json(popped[1])
    if reply.error is not None:
        raise reply.error.to_error()
    return reply
