"""What every RPC does around its body: authenticate the caller (authn.Authenticator), time
it, and turn failures into precise gRPC statuses (never a stack trace, never request data in the
message)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import grpc

from services.common.errors import ErrorCode, TryonError
from services.gateway.auth import API_KEY_HEADER
from services.gateway.metrics import LATENCY, REQUESTS

if TYPE_CHECKING:
    from services.gateway.authn import Authenticator

log = logging.getLogger(__name__)

_GRPC_CODES = {code: getattr(grpc.StatusCode, code.value) for code in ErrorCode}


class RpcError(Exception):
    """Raised by handlers to end the call with this status and message."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def from_tryon(cls, exc: TryonError) -> RpcError:
        return cls(_GRPC_CODES[exc.code], exc.message)


Req = TypeVar("Req")
Resp = TypeVar("Resp")
# The fourth argument is the caller's tenant (str), or its authn.Principal with principal=True.
Handler = Callable[[Any, Req, grpc.aio.ServicerContext, Any], Awaitable[Resp]]


def api_key_from(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == API_KEY_HEADER:
            return value if isinstance(value, str) else value.decode(errors="replace")
    return None


def rpc(
    method: str, *, principal: bool = False
) -> Callable[[Handler[Req, Resp]], Callable[..., Awaitable[Resp]]]:
    """Decorates `async def handler(self, request, context, tenant: str)` (with principal=True
    the last argument is the caller's authn.Principal instead); the servicer must have an
    `authenticator: Authenticator` attribute. `method` is the RPC's name: publishable keys are
    scoped by it."""

    def wrap(handler: Handler[Req, Resp]) -> Callable[..., Awaitable[Resp]]:
        @functools.wraps(handler)
        async def unary(self: Any, request: Req, context: grpc.aio.ServicerContext) -> Resp:
            begin = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                authenticator: Authenticator = self.authenticator
                caller = await authenticator.authenticate(context, method)
                return await handler(self, request, context, caller if principal else caller.tenant)
            except RpcError as exc:
                code = exc.code
                await context.abort(exc.code, exc.message)
                raise  # abort() raises; this line is for type checkers
            except TryonError as exc:
                code = _GRPC_CODES[exc.code]
                await context.abort(code, exc.message)
                raise
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED  # the caller left or its deadline passed
                raise
            except Exception as exc:
                if isinstance(exc, grpc.aio.AbortError):
                    raise
                code = grpc.StatusCode.INTERNAL
                log.exception("%s failed", method)
                await context.abort(code, "internal error; retry later")
                raise
            finally:
                elapsed = time.perf_counter() - begin
                REQUESTS.labels(method, code.name).inc()
                LATENCY.labels(method, code.name).observe(elapsed)

        return unary

    return wrap
