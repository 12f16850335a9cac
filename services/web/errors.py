"""Errors the browser sees: one JSON shape, an HTTP status and a WebSocket close code per gRPC
status, and always a message that says what to do."""

from __future__ import annotations

import grpc
from starlette.responses import JSONResponse

_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.CANCELLED: 499,
}
# WebSocket close codes (4000-4999 are the application's): HTTP status + 4000.
_WS_CLOSE = {400: 4400, 401: 4401, 403: 4403, 404: 4404, 413: 4413, 429: 4429}


class WebError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @classmethod
    def from_rpc(cls, exc: grpc.aio.AioRpcError) -> WebError:
        code = exc.code()
        status = _HTTP_STATUS.get(code, 500)
        message = exc.details() or code.name
        if status == 500:
            message = "the try-on platform failed; retry later"
        return cls(status, code.name, message)

    @property
    def ws_close_code(self) -> int:
        return _WS_CLOSE.get(self.status, 1011)

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": self.code, "message": self.message}},
            status_code=self.status,
            headers=headers,
        )


def bad_request(message: str) -> WebError:
    return WebError(400, "INVALID_ARGUMENT", message)
