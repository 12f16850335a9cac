"""Checks on products before anything is written, with messages that say what to fix.

Upserts reach the render worker from the gateway, which turns protos into plain dicts; the
messages therefore name positions the partner can find in their own request:
"products[3].shades[0].hex '#12345' is not #rrggbb".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, get_args

from pydantic import TypeAdapter, ValidationError

from services.common.errors import ErrorCode, TryonError
from services.common.payloads import Category, Finish, ProductPayload

MAX_PRODUCTS_PER_UPSERT = 1000
MAX_SWATCH_URI_CHARS = 2048
MAX_TENANT_CHARS = 64
# Shown per failing request; the rest are counted, so one typo repeated 1,000 times stays short.
MAX_PROBLEMS_SHOWN = 5

CATEGORIES: tuple[str, ...] = get_args(Category)
FINISHES: tuple[str, ...] = get_args(Finish)

_products_adapter = TypeAdapter(list[ProductPayload])


def _path(loc: Sequence[int | str]) -> str:
    out = "products"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _describe(err: Mapping[str, Any]) -> str:
    loc = err["loc"]
    path = _path(loc)
    field = loc[-1] if loc else ""
    value = err.get("input")
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return f"{path} is missing"
    if kind == "extra_forbidden":
        return f"{path} is not a field of a product or shade: remove it"
    if kind == "string_pattern_mismatch":
        if field == "hex":
            return f"{path} {value!r} is not #rrggbb"
        if field == "price_currency":
            return f"{path} {value!r} is not a 3-letter ISO 4217 code such as 'USD'"
    if kind == "literal_error":
        allowed = CATEGORIES if field == "category" else FINISHES if field == "finish" else ()
        if allowed:
            return f"{path} {value!r} is not one of: {', '.join(allowed)}"
    if kind == "too_short" and field == "shades":
        return f"{path} is empty: a product needs at least one shade"
    if kind == "too_long" and field == "shades":
        return f"{path} has {len(value)} shades: at most {ctx.get('max_length')} per product"
    if kind in ("string_too_short", "string_too_long"):
        lo = 1 if kind == "string_too_short" else 0
        hi = ctx.get("max_length", "")
        return f"{path} must be {lo}..{hi} characters" if hi else f"{path} must not be empty"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        if field in ("opacity", "coverage"):
            return f"{path} {value!r} must be between 0 and 1"
        if field == "price_minor":
            return f"{path} {value!r} must be >= 0 (minor units, e.g. cents)"
    return f"{path}: {err['msg']} (got {value!r})"


def _raise_problems(problems: list[str]) -> NoReturn:
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        shown += f"; and {more} more problem{'s' if more > 1 else ''}"
    raise TryonError(ErrorCode.INVALID_ARGUMENT, f"nothing was written: {shown}")


def parse_products(
    raw: Any, *, max_products: int | None = MAX_PRODUCTS_PER_UPSERT
) -> list[ProductPayload]:
    """Raw dicts (payload field names: product_id, brand, name, category, shades[{shade_id,
    name, hex, finish, opacity, coverage}], price_currency, price_minor, swatch_uri) ->
    validated payloads, or INVALID_ARGUMENT listing the problems by position."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise TryonError(ErrorCode.INVALID_ARGUMENT, "products must be a list of products")
    try:
        products = _products_adapter.validate_python(list(raw))
    except ValidationError as e:
        _raise_problems([_describe(err) for err in e.errors(include_url=False)])
    check_batch(products, max_products=max_products)
    return products


def _bad_id(value: str) -> str | None:
    if value != value.strip():
        return "has leading or trailing spaces"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "contains control characters"
    return None


def check_tenant(tenant: str) -> None:
    if not tenant or len(tenant) > MAX_TENANT_CHARS or _bad_id(tenant):
        # Tenants come from API keys, so this is our configuration, not the caller's request.
        raise TryonError(ErrorCode.INTERNAL, "tenant names must be 1..64 printable characters")


def check_batch(
    products: Sequence[ProductPayload], *, max_products: int | None = MAX_PRODUCTS_PER_UPSERT
) -> None:
    """What a single product's schema cannot see: batch size, ids repeated across the request,
    ids the URIs and logs cannot carry, swatch URIs we would hand back to shoppers.
    max_products None: no size cap (the seed's own write)."""
    if max_products is not None and len(products) > max_products:
        raise TryonError(
            ErrorCode.INVALID_ARGUMENT,
            f"{len(products)} products in one upsert: send at most {max_products} "
            "per call (split the batch; each call is all-or-nothing on its own)",
        )
    problems: list[str] = []
    positions: dict[str, list[int]] = defaultdict(list)
    for i, product in enumerate(products):
        positions[product.product_id].append(i)
        if why := _bad_id(product.product_id):
            problems.append(f"products[{i}].product_id {product.product_id!r} {why}")
        uri = product.swatch_uri
        if uri and (
            len(uri) > MAX_SWATCH_URI_CHARS
            or not uri.startswith(("https://", "http://", "data:image/"))
        ):
            problems.append(
                f"products[{i}].swatch_uri must be empty (we render one), an http(s) URL or a "
                f"data:image/ URI of at most {MAX_SWATCH_URI_CHARS} characters"
            )
        shade_positions: dict[str, list[int]] = defaultdict(list)
        for j, shade in enumerate(product.shades):
            shade_positions[shade.shade_id].append(j)
            if why := _bad_id(shade.shade_id):
                problems.append(f"products[{i}].shades[{j}].shade_id {shade.shade_id!r} {why}")
        for shade_id, where in shade_positions.items():
            if len(where) > 1:
                at = ", ".join(f"shades[{j}]" for j in where)
                problems.append(
                    f"products[{i}] ({product.product_id!r}) repeats shade id {shade_id!r} "
                    f"at {at}: shade ids must be unique within a product"
                )
    for product_id, where in positions.items():
        if len(where) > 1:
            at = ", ".join(f"products[{i}]" for i in where)
            problems.append(
                f"product id {product_id!r} appears more than once ({at}): send each product once"
            )
    if problems:
        _raise_problems(problems)
