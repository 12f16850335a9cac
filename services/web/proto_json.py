"""The gateway's messages as the small JSON the studio page reads (services/web/API.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlencode, urlparse

from tryon.v1 import tryon_service_pb2, types_pb2

CATEGORIES: dict[str, int] = {
    name.removeprefix("PRODUCT_CATEGORY_").lower(): number
    for name, number in types_pb2.ProductCategory.items()
    if number
}
_CATEGORY_NAMES = {number: name for name, number in CATEGORIES.items()}
_FINISH_NAMES = {
    number: name.removeprefix("FINISH_").lower()
    for name, number in types_pb2.Finish.items()
    if number
}
_UNDERTONES = {
    number: name.removeprefix("UNDERTONE_").lower()
    for name, number in types_pb2.Undertone.items()
    if number
}
SWATCH_PREFIX = "tryon://swatch/"


def swatch_url(uri: str, key: str, our_base: str) -> str:
    """Where the browser loads a product's swatch: our /swatches/ route (with the key, which
    decides what the tenant may see), or the partner's own URL as they gave it. `our_base` is
    the gateway's TRYON_SWATCH_BASE_URL: addresses under it are ours, whatever host it names."""
    if uri.startswith(SWATCH_PREFIX):
        tenant, _, product_id = uri.removeprefix(SWATCH_PREFIX).partition("/")
        parts = (quote(unquote(tenant), safe=""), quote(unquote(product_id), safe=""))
        path = f"/swatches/{parts[0]}/{parts[1]}.png"
        return f"{path}?{urlencode({'key': key})}"
    if our_base and uri.startswith(our_base.rstrip("/") + "/"):
        return f"{urlparse(uri).path}?{urlencode({'key': key})}"
    return uri


def product_json(product: types_pb2.Product, key: str, our_base: str) -> dict[str, Any]:
    price = None
    if product.price.currency and product.price.amount_minor > 0:  # 0: the catalog has none
        price = {"currency": product.price.currency, "amount_minor": product.price.amount_minor}
    return {
        "product_id": product.product_id,
        "brand": product.brand,
        "name": product.name,
        "category": _CATEGORY_NAMES.get(product.category, "unspecified"),
        "price": price,
        "swatch_url": swatch_url(product.swatch_uri, key, our_base),
        "shades": [
            {
                "shade_id": s.shade_id,
                "name": s.name,
                "hex": s.hex,
                "finish": _FINISH_NAMES.get(s.finish, "satin"),
            }
            for s in product.shades
        ],
    }


def face_box_json(face: types_pb2.Face) -> dict[str, float]:
    b = face.box
    return {"x": b.x_min, "y": b.y_min, "width": b.width, "height": b.height}


def geometry_json(geometry: types_pb2.FaceGeometry) -> dict[str, Any]:
    faces = []
    for face in geometry.faces:
        item: dict[str, Any] = {"box": face_box_json(face)}
        if face.HasField("skin_tone"):
            tone = face.skin_tone
            item["skin_tone"] = {
                "hex": tone.hex,
                "lab": [round(tone.lab_l, 2), round(tone.lab_a, 2), round(tone.lab_b, 2)],
                "ita": round(tone.ita_degrees, 1),
                "monk_bucket": tone.monk_bucket,
                "undertone": _UNDERTONES.get(tone.undertone, "neutral"),
            }
        faces.append(item)
    return {
        "face_id": geometry.face_id,
        "width": geometry.image_width,
        "height": geometry.image_height,
        "expires_in_seconds": geometry.expires_in_seconds,
        "faces": faces,
    }


def recommendations_json(
    reply: tryon_service_pb2.RecommendResponse, key: str, our_base: str
) -> dict[str, Any]:
    return {
        "recommendations": [
            {
                "product": product_json(r.product, key, our_base),
                "shade_id": r.shade_id,
                "score": round(r.score, 4),
                "reason": r.reason,
                "delta_e": round(r.delta_e, 2),
            }
            for r in reply.recommendations
        ],
        "model_version": reply.model_version,
    }
