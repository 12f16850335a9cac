"""Sends a task to a service queue and awaits its one reply, within the caller's deadline.

Replies come back on a per-request Redis list (BLPOP) rather than through Celery's result
backend: one round trip, awaitable from asyncio, and nothing to clean up when the caller gives
up (the reply key expires)."""

from __future__ import annotations

import time
import uuid
from typing import Any, TypeVar

import grpc
import redis.asyncio as aioredis
from celery import Celery
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.common.payloads import TaskEnvelope, TaskReply
from services.common.redis_keys import reply_key
from services.gateway.rpc import RpcError

T = TypeVar("T", bound=TaskEnvelope)
R = TypeVar("R", bound=TaskReply)


class TaskDispatcher:
    def __init__(self, celery_app: Celery, client: aioredis.Redis) -> None:
        self._app = celery_app
        self._redis = client

    async def request(
        self,
        task_name: str,
        queue: str,
        task_type: type[T],
        reply_type: type[R],
        *,
        tenant: str,
        timeout_s: float,
        **fields: Any,
    ) -> R:
        """Runs one task for `tenant`; returns its reply or raises RpcError (the task's own
        error, or DEADLINE_EXCEEDED)."""
        request_id = uuid.uuid4().hex
        task = task_type(
            request_id=request_id, tenant=tenant, reply_key=reply_key(request_id), **fields
        )
        deadline = time.monotonic() + timeout_s
        # `expires`: a worker that picks the message up after the caller gave up drops it.
        self._app.send_task(
            task_name,
            kwargs={"payload": task.model_dump(mode="json")},
            queue=queue,
            expires=timeout_s,
            task_id=request_id,
        )
        remaining = deadline - time.monotonic()
        # BLPOP takes a float timeout; 0 would mean "forever", so never pass it.
        try:
            popped = (
                await self._redis.blpop([task.reply_key], timeout=max(remaining, 0.001))
                if remaining > 0
                else None
            )
        except (TimeoutError, RedisTimeoutError):
            # The client's read timer can fire a hair before Redis answers "nothing yet":
            # the same outcome, the deadline passed.
            popped = None
        if popped is None:
            raise RpcError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"no result within the deadline ({timeout_s:.3f} s): retry with a longer one",
            )
        reply = reply_type.model_validate_json(popped[1])
        if reply.error is not None:
            raise RpcError.from_tryon(reply.error.to_error())
        return reply

    def send(self, task_name: str, payload: dict[str, Any]) -> None:
        """Fire and forget (the task has no reply): e.g. try-on events after a TryOn."""
        self._app.send_task(task_name, kwargs={"payload": payload})
