"""Sends a task to a service queue and awaits its one reply, within the caller's deadline.

Replies come back on a per-request Redis list (BLPOP) rather than through Celery's result
backend: one round trip, awaitable from asyncio, and nothing to clean up when the caller gives
up (the reply key expires)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from celery import Celery

from services.common.payloads import TaskReply
from services.common.redis_keys import reply_key


class DeadlineExceeded(Exception):
    pass


@dataclass(frozen=True)
class Dispatch:
    request_id: str
    reply_key: str


class TaskDispatcher:
    def __init__(self, celery_app: Celery, client: aioredis.Redis) -> None:
        self._app = celery_app
        self._redis = client

    @staticmethod
    def new_dispatch() -> Dispatch:
        request_id = uuid.uuid4().hex
        return Dispatch(request_id, reply_key(request_id))

    async def call(
        self, task_name: str, queue: str, dispatch: Dispatch, payload: dict[str, Any], timeout_s: float
    ) -> TaskReply:
        deadline = time.monotonic() + timeout_s
        # `expires`: a worker that picks the message up after the caller gave up drops it.
        self._app.send_task(
            task_name, kwargs={"payload": payload}, queue=queue, expires=timeout_s,
            task_id=dispatch.request_id,
        )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded
        # BLPOP takes a float timeout; 0 would mean "forever", so never pass it.
        popped = await self._redis.blpop([dispatch.reply_key], timeout=max(remaining, 0.001))
        if popped is None:
            raise DeadlineExceeded
        return TaskReply.model_validate_json(popped[1])
