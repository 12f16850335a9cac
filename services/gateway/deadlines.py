"""How long a call may take: the caller's deadline, bounded."""

from __future__ import annotations

import grpc

from services.gateway.rpc import RpcError

# Used when the caller sets no deadline: nobody should wait on us forever.
DEFAULT_TIMEOUT_S = 30.0
MAX_TIMEOUT_S = 300.0
# Below this, the work cannot finish: fail fast instead of queueing it.
MIN_TIMEOUT_S = 0.005


def remaining_time(context: grpc.aio.ServicerContext) -> float:
    remaining = context.time_remaining()
    if remaining is None:
        return DEFAULT_TIMEOUT_S
    if remaining < MIN_TIMEOUT_S:
        raise RpcError(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            f"deadline too short ({remaining * 1000:.0f} ms left on arrival): allow at least "
            "1 s for work on an uncached image",
        )
    return min(remaining, MAX_TIMEOUT_S)
