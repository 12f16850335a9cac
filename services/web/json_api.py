"""The studio's JSON API (/api/v1/...): each call checks the key, origin and budget, then is
one gRPC call to the gateway (the facets listing pages through the catalog)."""

from __future__ import annotations

import asyncio
import functools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.common.colour_families import DEPTH_CATEGORIES, DEPTH_FAMILIES, HUE_FAMILIES
from services.web.context import authorize, context_of, cors_headers
from services.web.errors import WebError, bad_request
from services.web.key_policy import KeyInfo
from services.web.proto_json import (
    CATEGORIES,
    geometry_json,
    product_json,
    recommendations_json,
)
from tryon.v1 import catalog_service_pb2, tryon_service_pb2, types_pb2

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
EVENT_TYPES = {
    "tried": tryon_service_pb2.EVENT_TYPE_TRY_ON,
    "add_to_bag": tryon_service_pb2.EVENT_TYPE_ADD_TO_CART,
    "purchase": tryon_service_pb2.EVENT_TYPE_PURCHASE,
}
MAX_LOOK = 16
MAX_JSON_BYTES = 64 * 1024
MAX_ID = 128
FACET_PAGES = 20  # x 500 products: every category of the real catalogs fits
FACETS_TTL_S = 60.0

Handler = Callable[[Request, KeyInfo], Awaitable[Response]]


def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authorizes, runs the handler, and turns every failure into the one JSON error shape."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        info = None
        try:
            info = await authorize(request)
            response = await handler(request, info)
        except WebError as exc:
            if exc.status == 401 and info is not None:
                context_of(request).keys.forget(info.key)
            return exc.response(cors_headers(request, info))
        response.headers.update(cors_headers(request, info))
        return response

    return endpoint


async def _json_body(request: Request) -> dict[str, Any]:
    body = await _read_body(request, MAX_JSON_BYTES, "JSON body")
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise bad_request("the body is not JSON: send Content-Type application/json") from None
    if not isinstance(value, dict):
        raise bad_request("the body must be a JSON object")
    return value


async def _read_body(request: Request, limit: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    too_big = WebError(
        413, "RESOURCE_EXHAUSTED", f"the {what} is over {limit // 1024} KB: send a smaller one"
    )
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _string(body: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_ID:
        raise bad_request(f"{name} must be a string of at most {MAX_ID} characters")
    if required and not value:
        raise bad_request(f"{name} is required")
    return value


def category_number(name: str) -> int:
    if name not in CATEGORIES:
        raise bad_request(f"unknown category {name!r}: use one of {', '.join(CATEGORIES)}")
    return CATEGORIES[name]


def look_proto(items: Any) -> types_pb2.Look:
    """The browser's look as the API's Look; the gateway validates it fully (the one edge)."""
    if not isinstance(items, list) or len(items) > MAX_LOOK:
        raise bad_request(f"look must be a list of at most {MAX_LOOK} applications")
    look = types_pb2.Look()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise bad_request(f"look[{i}] must be an object with product_id, shade_id, intensity")
        intensity = item.get("intensity", 1.0)
        if not isinstance(intensity, int | float) or not 0.0 <= float(intensity) <= 1.0:
            raise bad_request(f"look[{i}].intensity must be a number in 0..1")
        look.applications.add(
            product_id=_string(item, "product_id", required=True),
            shade_id=_string(item, "shade_id"),
            # 0 means "unset" (1.0) in the API: send the smallest visible amount instead.
            intensity=max(float(intensity), 1e-3),
            zone=_string(item, "zone"),
        )
    return look


# --- catalog -------------------------------------------------------------------------------


@api
async def list_products(request: Request, info: KeyInfo) -> Response:
    q = request.query_params
    page_size = q.get("page_size", "60")
    if not page_size.isdigit() or not 1 <= int(page_size) <= 200:
        raise bad_request("page_size must be 1..200")
    ctx = context_of(request)
    reply = await ctx.gateway.call(
        ctx.gateway.catalog.ListProducts,
        catalog_service_pb2.ListProductsRequest(
            category=category_number(q["category"]) if q.get("category") else 0,
            brand=q.get("brand", ""), colour_family=q.get("family", ""),
            query=q.get("q", ""), page_size=int(page_size), page_token=q.get("page_token", ""),
        ),
        info.key,
    )  # fmt: skip
    return JSONResponse(
        {
            "products": [product_json(p, info.key, ctx.settings.swatch_base_url)
                         for p in reply.products],  # fmt: skip
            "next_page_token": reply.next_page_token,
        },
        headers={"Cache-Control": "private, max-age=30"},
    )


@api
async def get_product(request: Request, info: KeyInfo) -> Response:
    ctx = context_of(request)
    product = await ctx.gateway.call(
        ctx.gateway.catalog.GetProduct,
        catalog_service_pb2.GetProductRequest(product_id=request.path_params["product_id"]),
        info.key,
    )
    return JSONResponse(product_json(product, info.key, ctx.settings.swatch_base_url))


class FacetCache:
    """Brands and colour families per (key, category), kept a minute: listing them pages
    through the whole category."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[float, dict[str, list[str]]]] = {}

    def get(self, key: tuple[str, str]) -> dict[str, list[str]] | None:
        hit = self._entries.get(key)
        return hit[1] if hit and hit[0] > time.monotonic() else None

    def put(self, key: tuple[str, str], value: dict[str, list[str]]) -> None:
        if len(self._entries) > 512:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + FACETS_TTL_S, value)


@api
async def facets(request: Request, info: KeyInfo) -> Response:
    category = request.query_params.get("category", "")
    number = category_number(category) if category else 0
    cache: FacetCache = request.app.state.facets
    cached = cache.get((info.key, category))
    if cached is None:
        ctx = context_of(request)
        brands: set[str] = set()
        token = ""
        for _ in range(FACET_PAGES):
            reply = await ctx.gateway.call(
                ctx.gateway.catalog.ListProducts,
                catalog_service_pb2.ListProductsRequest(
                    category=number, page_size=500, page_token=token
                ),
                info.key,
            )
            brands.update(p.brand for p in reply.products)
            token = reply.next_page_token
            if not token:
                break
        families = DEPTH_FAMILIES if category in DEPTH_CATEGORIES else HUE_FAMILIES
        present = await asyncio.gather(
            *(
                ctx.gateway.call(
                    ctx.gateway.catalog.ListProducts,
                    catalog_service_pb2.ListProductsRequest(
                        category=number, colour_family=family, page_size=1
                    ),
                    info.key,
                )
                for family in families
            )
        )
        cached = {
            "brands": sorted(brands, key=str.lower),
            "colour_families": [f for f, r in zip(families, present, strict=True) if r.products],
        }
        cache.put((info.key, category), cached)
    return JSONResponse(cached, headers={"Cache-Control": "private, max-age=60"})


@api
async def describe_key(request: Request, info: KeyInfo) -> Response:
    return JSONResponse(
        {"allowed_origins": list(info.allowed_origins),
         "requests_per_minute": info.requests_per_minute}
    )  # fmt: skip


# --- faces, try-on, recommendations, events ------------------------------------------------


@api
async def photo(request: Request, info: KeyInfo) -> Response:
    ctx = context_of(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise bad_request(
            f"send the photo's bytes as the body with Content-Type one of {', '.join(IMAGE_TYPES)}"
        )
    data = await _read_body(request, ctx.settings.max_photo_bytes, "photo")
    if not data:
        raise bad_request("the photo is empty: send the image bytes as the body")
    reply = await ctx.gateway.call(
        ctx.gateway.tryon.Reconstruct,
        tryon_service_pb2.ReconstructRequest(
            image=types_pb2.Image(data=data, content_type=content_type), max_faces=1
        ),
        info.key,
    )
    return JSONResponse(geometry_json(reply.geometry), headers={"Cache-Control": "no-store"})


@api
async def try_on(request: Request, info: KeyInfo) -> Response:
    ctx = context_of(request)
    body = await _json_body(request)
    reply = await ctx.gateway.call(
        ctx.gateway.tryon.TryOn,
        tryon_service_pb2.TryOnRequest(
            face_id=_string(body, "face_id", required=True),
            look=look_proto(body.get("look", [])),
            output_content_type="image/jpeg",
            user_id=_string(body, "user_id"),
        ),
        info.key,
    )
    return Response(
        reply.image.data, media_type="image/jpeg", headers={"Cache-Control": "no-store"}
    )


@api
async def recommend(request: Request, info: KeyInfo) -> Response:
    ctx = context_of(request)
    body = await _json_body(request)
    face_id, user_id = _string(body, "face_id"), _string(body, "user_id")
    if not face_id and not user_id:
        raise bad_request("send a face_id (a photo's), a user_id, or both")
    k = body.get("k", 8)
    if not isinstance(k, int) or not 1 <= k <= 50:
        raise bad_request("k must be an integer in 1..50")
    categories = body.get("categories", [])
    if not isinstance(categories, list):
        raise bad_request("categories must be a list of category names")
    request_proto = tryon_service_pb2.RecommendRequest(
        categories=[category_number(c) for c in categories if isinstance(c, str)], k=k
    )
    if face_id:
        request_proto.face_id = face_id
        request_proto.shopper_user_id = user_id
    else:
        request_proto.user_id = user_id
    reply = await ctx.gateway.call(ctx.gateway.tryon.Recommend, request_proto, info.key)
    return JSONResponse(
        recommendations_json(reply, info.key, ctx.settings.swatch_base_url),
        headers={"Cache-Control": "no-store"},
    )


@api
async def record_event(request: Request, info: KeyInfo) -> Response:
    ctx = context_of(request)
    body = await _json_body(request)
    kind = body.get("type")
    if kind not in EVENT_TYPES:
        raise bad_request(f"type must be one of {', '.join(EVENT_TYPES)}")
    now = Timestamp()
    now.GetCurrentTime()
    reply = await ctx.gateway.call(
        ctx.gateway.tryon.RecordEvent,
        tryon_service_pb2.RecordEventRequest(
            event_id=_string(body, "event_id") or f"web-{uuid.uuid4()}",
            user_id=_string(body, "user_id", required=True),
            type=EVENT_TYPES[kind],
            product_id=_string(body, "product_id", required=True),
            shade_id=_string(body, "shade_id"),
            time=now,
        ),
        info.key,
    )
    return JSONResponse({"created": reply.created})


MAX_HISTORY = 20


@api
async def advise(request: Request, info: KeyInfo) -> Response:
    """The beauty advisor: the page keeps the conversation and sends it back each time."""
    ctx = context_of(request)
    body = await _json_body(request)
    message = body.get("message", "")
    if not isinstance(message, str):
        raise bad_request("message must be a string")
    history = body.get("history", [])
    if not isinstance(history, list) or len(history) > MAX_HISTORY:
        raise bad_request(f"history must be a list of at most {MAX_HISTORY} turns")
    turns = []
    for i, turn in enumerate(history):
        if not isinstance(turn, dict) or not isinstance(turn.get("text", ""), str):
            raise bad_request(f"history[{i}] must be {{'role': 'shopper'|'advisor', 'text'}}")
        turns.append(tryon_service_pb2.AdviceTurn(role=str(turn.get("role", "")),
                                                  text=turn.get("text", "")))  # fmt: skip
    k = body.get("k", 6)
    if not isinstance(k, int):
        raise bad_request("k must be an integer in 1..12")
    reply = await ctx.gateway.call(
        ctx.gateway.tryon.Advise,
        tryon_service_pb2.AdviseRequest(
            message=message, face_id=_string(body, "face_id"), user_id=_string(body, "user_id"),
            history=turns, k=k,
        ),
        info.key,
    )  # fmt: skip
    slots = reply.slots
    products = recommendations_json(
        tryon_service_pb2.RecommendResponse(recommendations=reply.products), info.key,
        ctx.settings.swatch_base_url,
    )["recommendations"]  # fmt: skip
    return JSONResponse(
        {
            "reply": reply.reply,
            "language": slots.language,
            "out_of_scope": slots.out_of_scope,
            "products": products,
        },
        headers={"Cache-Control": "no-store"},
    )
