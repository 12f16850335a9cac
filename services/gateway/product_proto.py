"""Catalog messages: API protos <-> task payloads."""

from __future__ import annotations

from urllib.parse import quote, unquote

import grpc
from pydantic import ValidationError

from services.common.payloads import JobPayload, ProductPayload
from services.gateway.rpc import RpcError
from tryon.v1 import types_pb2

CATEGORIES = {
    types_pb2.PRODUCT_CATEGORY_LIPSTICK: "lipstick",
    types_pb2.PRODUCT_CATEGORY_LIP_LINER: "lip_liner",
    types_pb2.PRODUCT_CATEGORY_BLUSH: "blush",
    types_pb2.PRODUCT_CATEGORY_BRONZER: "bronzer",
    types_pb2.PRODUCT_CATEGORY_CONTOUR: "contour",
    types_pb2.PRODUCT_CATEGORY_HIGHLIGHTER: "highlighter",
    types_pb2.PRODUCT_CATEGORY_FOUNDATION: "foundation",
    types_pb2.PRODUCT_CATEGORY_CONCEALER: "concealer",
    types_pb2.PRODUCT_CATEGORY_EYESHADOW: "eyeshadow",
    types_pb2.PRODUCT_CATEGORY_EYELINER: "eyeliner",
    types_pb2.PRODUCT_CATEGORY_MASCARA: "mascara",
    types_pb2.PRODUCT_CATEGORY_BROW: "brow",
    types_pb2.PRODUCT_CATEGORY_NAIL_POLISH: "nail_polish",
}
CATEGORY_ENUMS = {name: value for value, name in CATEGORIES.items()}
FINISHES = {
    types_pb2.FINISH_MATTE: "matte",
    types_pb2.FINISH_SATIN: "satin",
    types_pb2.FINISH_GLOSS: "gloss",
    types_pb2.FINISH_SHIMMER: "shimmer",
    types_pb2.FINISH_METALLIC: "metallic",
}
FINISH_ENUMS = {name: value for value, name in FINISHES.items()}
# services.render.catalog.store.swatch_path_uri's prefix (the gateway does not import render).
SWATCH_SCHEME = "tryon://swatch/"
JOB_STATES = {
    "queued": types_pb2.JOB_STATE_QUEUED,
    "running": types_pb2.JOB_STATE_RUNNING,
    "succeeded": types_pb2.JOB_STATE_SUCCEEDED,
    "failed": types_pb2.JOB_STATE_FAILED,
    "cancelled": types_pb2.JOB_STATE_CANCELLED,
}


def category_name(value: int, where: str, required: bool = True) -> str | None:
    if value == types_pb2.PRODUCT_CATEGORY_UNSPECIFIED and not required:
        return None
    try:
        return CATEGORIES[value]
    except KeyError:
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{where} is {value}: use a ProductCategory value",
        ) from None


def swatch_url(uri: str, base_url: str) -> str:
    """The URL a caller can fetch for a swatch: tryon://swatch/<tenant>/<product_id> (what the
    catalog stores for swatches it renders) becomes {base_url}/<tenant>/<product_id>.png when
    the deployment serves swatches (TRYON_SWATCH_BASE_URL); anything else (a partner's URL,
    a data: URI) is returned as given."""
    if not base_url or not uri.startswith(SWATCH_SCHEME):
        return uri
    tenant, sep, product_id = uri.removeprefix(SWATCH_SCHEME).partition("/")
    if not sep or not tenant or not product_id or "/" in product_id:
        return uri
    path = "/".join(quote(unquote(part), safe="") for part in (tenant, product_id))
    return f"{base_url}/{path}.png"


def product_proto(product: ProductPayload, swatch_base_url: str = "") -> types_pb2.Product:
    return types_pb2.Product(
        product_id=product.product_id,
        brand=product.brand,
        name=product.name,
        category=CATEGORY_ENUMS[product.category],
        shades=[
            types_pb2.Shade(
                shade_id=s.shade_id, name=s.name, hex=s.hex, finish=FINISH_ENUMS[s.finish],
                opacity=s.opacity, coverage=s.coverage,
            )
            for s in product.shades
        ],
        price=types_pb2.Money(currency=product.price_currency, amount_minor=product.price_minor),
        swatch_uri=swatch_url(product.swatch_uri, swatch_base_url),
    )  # fmt: skip


def _location(loc: tuple[int | str, ...], index: int) -> str:
    parts = [f"products[{index}]"]
    for item in loc:
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}")
    return "".join(parts)


def product_from_proto(product: types_pb2.Product, index: int) -> ProductPayload:
    """Validates one product of an upsert; the message names the field and the fix."""
    where = f"products[{index}]"
    category = category_name(product.category, f"{where}.category")
    shades = []
    for j, shade in enumerate(product.shades):
        if shade.finish not in FINISHES and shade.finish != types_pb2.FINISH_UNSPECIFIED:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{where}.shades[{j}].finish is {shade.finish}: use a Finish value",
            )
        if not shade.hex:
            raise RpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{where}.shades[{j}].hex is missing: give the colour as #rrggbb",
            )
        shades.append({
            "shade_id": shade.shade_id, "name": shade.name or shade.shade_id, "hex": shade.hex,
            "finish": FINISHES.get(shade.finish, "satin"),
            # proto3 floats have no "unset": 0 means the default, as the API documents.
            "opacity": shade.opacity or 0.85,
            "coverage": shade.coverage or 0.5,
        })  # fmt: skip
    try:
        return ProductPayload.model_validate({
            "product_id": product.product_id, "brand": product.brand, "name": product.name,
            "category": category, "shades": shades,
            "price_currency": product.price.currency or "USD",
            "price_minor": product.price.amount_minor,
            "swatch_uri": product.swatch_uri,  # the partner's own (checked by the catalog)
        })  # fmt: skip
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = first["loc"]
        raise RpcError(
            grpc.StatusCode.INVALID_ARGUMENT, f"{_location(tuple(loc), index)}: {first['msg']}"
        ) from None


def job_proto(job: JobPayload) -> types_pb2.Job:
    return types_pb2.Job(
        job_id=job.job_id, state=JOB_STATES[job.state], total=job.total, done=job.done,
        failed=job.failed, output_uri=job.output_uri, error=job.error,
    )  # fmt: skip
