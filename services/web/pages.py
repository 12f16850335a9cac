"""The studio page, its static files, the retailer's embed script, product swatches and the
health check."""

from __future__ import annotations

import base64
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from services.web.context import authorize, context_of, presented_key
from services.web.errors import WebError
from services.web.key_policy import studio_csp
from tryon.v1 import catalog_service_pb2

STATIC_DIR = Path(__file__).resolve().parent / "static"
_DATA_PNG = "data:image/png;base64,"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # The page's key is in its URL: it must not be stored by shared caches.
    "Cache-Control": "no-store",
}


def _no_key_page(message: str, status: int) -> Response:
    html = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>tryon studio</title>"
        f"<h1>tryon studio</h1><p>{message}</p></html>"
    )
    return Response(
        html,
        status_code=status,
        media_type="text/html",
        headers={**SECURITY_HEADERS, "Content-Security-Policy": studio_csp(None, "none", False)},
    )


async def studio(request: Request) -> Response:
    """The page itself holds no key and no data: it reads ?key= and calls the API. Only the
    key's origins (and ours) may frame it."""
    secure = request.url.scheme == "https"
    host = request.headers.get("host", request.url.netloc)
    try:
        info = await context_of(request).keys.info(presented_key(request))
    except WebError as exc:
        # Escape nothing user-given: the message is ours.
        return _no_key_page(exc.message.replace("<", "&lt;"), exc.status)
    return FileResponse(
        STATIC_DIR / "studio.html",
        headers={
            **SECURITY_HEADERS,
            "Content-Security-Policy": studio_csp(info, host, secure),
            "Permissions-Policy": "camera=(self), microphone=()",
        },
    )


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or not path.is_file() or path.suffix not in (".js", ".css"):
        return JSONResponse({"error": {"code": "NOT_FOUND", "message": "no such file"}}, 404)
    return FileResponse(
        path,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"},
    )


async def embed_script(request: Request) -> Response:
    """The retailer's snippet: loads cross-origin on their page, so CORS-open and cacheable."""
    return FileResponse(
        STATIC_DIR / "embed.js",
        media_type="text/javascript",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=300",
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


async def swatch(request: Request) -> Response:
    """A product's swatch PNG, as the key's tenant sees the product (our own catalog's
    products and the tenant's own; never another tenant's)."""
    try:
        info = await authorize(request, bucket="swatch")
        product_id = request.path_params["product_id"]
        ctx = context_of(request)
        product = await ctx.gateway.call(
            ctx.gateway.catalog.GetProduct,
            catalog_service_pb2.GetProductRequest(product_id=product_id, include_swatch=True),
            info.key,
        )
    except WebError as exc:
        return exc.response()
    uri = product.swatch_uri
    if uri.startswith(_DATA_PNG):
        return Response(
            base64.b64decode(uri.removeprefix(_DATA_PNG)),
            media_type="image/png",
            headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )
    if uri.startswith(("https://", "http://")):
        return RedirectResponse(uri, status_code=302)  # the partner's own swatch image
    return JSONResponse({"error": {"code": "NOT_FOUND", "message": "no swatch"}}, 404)


async def healthz(request: Request) -> Response:
    serving = await context_of(request).gateway.serving()
    return JSONResponse({"gateway": "SERVING" if serving else "NOT_SERVING"},
                        status_code=200 if serving else 503)  # fmt: skip


async def index(request: Request) -> Response:
    query = request.url.query
    return RedirectResponse(f"/studio{'?' + query if query else ''}", status_code=302)
