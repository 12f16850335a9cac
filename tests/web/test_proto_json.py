"""The browser's JSON of catalog products: where a swatch is loaded from (pure, no stack)."""

from __future__ import annotations

from services.web.proto_json import product_json, swatch_url
from tryon.v1 import types_pb2

BASE = "https://studio.example.com/swatches"


def test_our_swatches_become_routes_with_the_key() -> None:
    assert swatch_url("tryon://swatch/public/rouge%20dior", "pk_x", BASE) == (
        "/swatches/public/rouge%20dior.png?key=pk_x"
    )
    assert swatch_url(f"{BASE}/alpha/lip-1.png", "pk_x", BASE) == (
        "/swatches/alpha/lip-1.png?key=pk_x"
    )


def test_a_partner_swatch_is_left_as_given() -> None:
    own = "https://cdn.alpha.example/swatches/lip%201.png?v=3"
    assert swatch_url(own, "pk_x", BASE) == own
    assert swatch_url(own, "pk_x", "") == own
    inline = "data:image/png;base64,iVBORw0KGgo="
    assert swatch_url(inline, "pk_x", BASE) == inline


def test_a_product_without_a_price_has_none() -> None:
    product = types_pb2.Product(
        product_id="p", brand="B", name="N", category=types_pb2.PRODUCT_CATEGORY_BLUSH,
        price=types_pb2.Money(currency="USD", amount_minor=0),
        shades=[types_pb2.Shade(shade_id="s", name="S", hex="#aa3344",
                                finish=types_pb2.FINISH_SHIMMER)],
    )  # fmt: skip
    doc = product_json(product, "pk_x", BASE)
    assert doc["price"] is None and doc["category"] == "blush"
    assert doc["shades"] == [{"shade_id": "s", "name": "S", "hex": "#aa3344", "finish": "shimmer"}]
