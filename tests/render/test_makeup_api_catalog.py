"""The Makeup API import (services/render/catalog/makeup_api.py) on the real file: every cleaning
rule visible in the products, the report's accounting, and the public catalog it joins (house
products only where real brands are too few). Pure: no database, no stack."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.common.color import hex_to_lab
from services.render.catalog import makeup_api
from services.render.catalog.makeup_api import CleaningReport, makeup_api_products
from services.render.catalog.real_catalogs import (
    HOUSE_BRAND,
    HOUSE_LABEL,
    MIN_REAL_BRANDS,
    build_public_catalog,
    house_products_for_gaps,
)
from services.render.catalog.seed import catalog_report
from services.render.catalog.validation import parse_products
from tests.conftest import shared_data_dir

TRY_ON = ("lipstick", "lip_liner", "blush", "bronzer", "contour", "highlighter", "foundation",
          "concealer", "eyeshadow", "eyeliner", "mascara", "brow")  # fmt: skip
SOURCE_TYPES = {"eyebrow": "brow"}


def source_path() -> Path:
    return shared_data_dir() / "catalog" / "makeup_api" / "makeup.json"


@cache
def source() -> list[dict[str, Any]]:
    return json.loads(source_path().read_text(encoding="utf-8"))


@cache
def cleaned() -> tuple[list[dict[str, Any]], CleaningReport]:
    return makeup_api_products(source_path())


def products() -> list[dict[str, Any]]:
    return cleaned()[0]


def report() -> CleaningReport:
    return cleaned()[1]


def shades_of(*categories: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p, s) for p in products() if p["category"] in categories for s in p["shades"]]


def test_products_validate_as_catalog_payloads() -> None:
    parsed = parse_products(products(), max_products=None)
    assert len(parsed) == len(products()) > 600


def test_every_hex_is_lowercase_rrggbb_and_every_product_has_a_shade() -> None:
    for p in products():
        assert p["shades"], p["product_id"]
        for s in p["shades"]:
            assert re.fullmatch(r"#[0-9a-f]{6}", s["hex"]), (p["product_id"], s)
            assert s["name"] and s["name"] == s["name"].strip()
        assert "&trade;" not in p["name"] and "<" not in p["name"] and "\n" not in p["name"]


def test_palette_strings_split_into_one_shade_each() -> None:
    quads = [p for p in products() if p["name"] == "All About Shadow™ Quad"]
    assert len(quads) == 1
    by_name = {s["name"]: s["hex"] for s in quads[0]["shades"]}
    # '#c5dde8,#3a4e66,#638988,#2b2f28' named 'Dive In' -> Dive In 1..4
    assert [by_name[f"Dive In {i}"] for i in (1, 2, 3, 4)] == [
        "#c5dde8", "#3a4e66", "#638988", "#2b2f28"
    ]  # fmt: skip
    palette_entries = sum(
        1 for r in source() for c in r["product_colors"] if "," in (c["hex_value"] or "")
    )
    assert palette_entries == 42  # SOURCE.txt's count
    assert report().counts["palette_split"] > palette_entries  # each adds >= 1 shade


def test_colour_words_are_dropped() -> None:
    assert report().counts["colour_word"] == 12  # SOURCE.txt: gray7, white, black...
    words = {c["hex_value"] for r in source() for c in r["product_colors"]
             if c["hex_value"] and not c["hex_value"].startswith("#")}  # fmt: skip
    kept = {s["hex"] for p in products() for s in p["shades"]}
    assert words and not words & kept


def test_no_near_white_liner_mascara_or_brow_survives() -> None:
    eye = shades_of("eyeliner", "mascara", "brow")
    lab = hex_to_lab([s["hex"] for _, s in eye])
    survivors = [
        (p["name"], s["name"], s["hex"])
        for (p, s), (lab_l, lab_a, lab_b) in zip(eye, lab, strict=True)
        if lab_l >= 88 and np.hypot(lab_a, lab_b) < 12
    ]
    # Only white liners named white stay (the hex agrees with the name); no mascara or brow.
    assert all(
        re.search(r"white|snow|milk|blanc", f"{name} {shade}".lower())
        for name, shade, _ in survivors
    ), survivors
    names = {p["name"] for p, _ in shades_of("mascara", "brow")}
    assert "Color Mascara" not in names  # NYX's 'Blue' #fbfcff and friends: all backgrounds
    assert report().counts["near_white_eye"] >= 40


def test_duplicates_are_merged() -> None:
    keys = [makeup_api.name_key(p["brand"], p["name"]) for p in products()]
    assert len(keys) == len(set(keys))
    pairs = [(p["brand"].casefold(), p["name"].casefold()) for p in products()]
    assert len(pairs) == len(set(pairs))
    assert report().counts["duplicate_merged"] >= 5
    # Orly's nail lacquer is listed twice (10 + 4 shades): one product, hexes deduplicated.
    orly = [p for p in products() if p["brand"] == "ORLY" and "Nail Lacquer" in p["name"]]
    assert len(orly) == 1
    hexes = [s["hex"] for s in orly[0]["shades"]]
    assert len(hexes) == len(set(hexes)) > 10


def test_every_category_has_as_many_brands_as_the_source_allows() -> None:
    ours: dict[str, set[str]] = defaultdict(set)
    for p in products():
        ours[p["category"]].add(p["brand"])
    source_brands: dict[str, set[str]] = defaultdict(set)
    for r in source():
        if r["product_colors"] and r["brand"]:
            t = r["product_type"]
            source_brands[SOURCE_TYPES.get(t, t)].add(r["brand"])
    for category, brands in source_brands.items():
        if len(brands) >= MIN_REAL_BRANDS:
            assert len(ours[category]) >= MIN_REAL_BRANDS, (category, sorted(ours[category]))
    # The categories hiding in other fields are found, with brands to choose from.
    for category in ("concealer", "highlighter", "contour"):
        assert len(ours[category]) >= MIN_REAL_BRANDS, (category, sorted(ours[category]))
    assert "Stretch Concealer" in {p["name"] for p in products() if p["category"] == "concealer"}
    assert "Haloscope" in {p["name"] for p in products() if p["category"] == "highlighter"}
    assert len(ours["nail_polish"]) >= 15


def test_brands_prices_and_finishes() -> None:
    brands = {p["brand"] for p in products()}
    assert {"Maybelline", "NYX Professional Makeup", "Dior", "L'Oréal"} <= brands
    assert not {b for b in brands if b.islower() and not b.startswith("e.l.f.")}
    assert all(p["price_minor"] >= 0 and re.fullmatch(r"[A-Z]{3}", p["price_currency"])
               for p in products())  # fmt: skip
    assert sum(p["price_minor"] > 0 for p in products()) > 500
    glosses = [p for p in products() if p["category"] == "lipstick" and "Gloss" in p["name"]]
    # The product's finish, unless the shade's own name says another ("Pink Shimmer").
    assert glosses and all(s["finish"] == "gloss" for p in glosses for s in p["shades"]
                           if not makeup_api.finish_from_words(s["name"]))  # fmt: skip
    mattes = [p for p in products() if "Matte" in p["name"] and "Metallic" not in p["name"]
              and p["category"] == "lipstick"]  # fmt: skip
    assert mattes and all(s["finish"] == "matte" for p in mattes for s in p["shades"]
                          if not makeup_api.finish_from_words(s["name"]))  # fmt: skip
    assert {s["finish"] for _, s in shades_of("highlighter")} >= {"shimmer"}


def test_unnamed_shades_get_their_colour_family() -> None:
    assert report().counts["shade_named_from_family"] == 50  # SOURCE.txt: 50 without a name
    names = [s["name"] for _, s in shades_of("bronzer", "contour")]
    assert any(re.fullmatch(r"(Fair|Light|Medium|Tan|Deep) \d+", n) for n in names)


def test_report_adds_up() -> None:
    r = report()
    assert r.source_products == len(source()) == 931
    assert r.source_shades == sum(len(x["product_colors"]) for x in source())
    assert r.kept_products == len(products())
    assert r.kept_shades == sum(len(p["shades"]) for p in products())
    assert r.source_shades + r.shades_added_by_split == r.kept_shades + r.dropped_shades
    assert r.source_products == r.kept_products + r.dropped_products + r.merged_products
    assert r.counts["no_colours"] == 239  # SOURCE.txt
    summary = r.summary()
    for line in r.lines():
        assert line.rule in summary and line.reason
    assert all(line.count > 0 for line in r.lines())


def test_ids_are_unique_and_stable() -> None:
    ids = [p["product_id"] for p in products()]
    assert len(ids) == len(set(ids)) and all(i.startswith("mk-") for i in ids)
    again, _ = makeup_api.clean(json.loads(source_path().read_text(encoding="utf-8")))
    assert again == products()
    for p in products():
        shade_ids = [s["shade_id"] for s in p["shades"]]
        assert len(shade_ids) == len(set(shade_ids)), p["product_id"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("#F7E2D1,#673E2C", ["#f7e2d1", "#673e2c"]), ("#ABCDEF", ["#abcdef"]), ("gray7", None),
     ("white", None), ("", None), ("#12345", None)],
)  # fmt: skip
def test_split_hexes(raw: str, expected: list[str] | None) -> None:
    assert makeup_api.split_hexes(raw) == expected


def test_category_mapping_rules() -> None:
    m = makeup_api.map_category
    assert m("foundation", "concealer", "Gotcha Covered Concealer") == "concealer"
    assert m("foundation", "highlighter", "Haloscope") == "highlighter"
    assert m("foundation", "bb_cc", "Camera Ready BB Cream SPF 35") == "foundation"
    assert m("foundation", "bb_cc", "24 Hour CC Spot Concealer") == "concealer"
    assert m("foundation", None, "Beyond Perfecting Foundation + Concealer") == "foundation"
    assert m("bronzer", None, "Master Contour Kit") == "contour"
    assert m("bronzer", None, "Contouring Blush & Bronzing Powder") == "bronzer"
    assert m("bronzer", None, "Illuminator") == "highlighter"
    assert m("eyebrow", None, "Sculpt & Highlight Brow Contour") == "brow"
    assert m("eyebrow", None, "Brow Tech Highlight Stick") == "highlighter"
    assert m("eyebrow", None, "Tinted Brow Mascara") == "brow"
    assert m("nail_polish", None, "Nail Lacquer") == "nail_polish"
    assert m("perfume", None, "Eau") is None


def test_public_catalog_house_products_fill_gaps_only() -> None:
    built = build_public_catalog(shared_data_dir())
    by_category: dict[str, set[str]] = defaultdict(set)
    for p in built.products:
        by_category[p.category].add(p.brand.casefold())
    for category in TRY_ON:
        assert len(by_category[category]) >= MIN_REAL_BRANDS, category
    assert not [p for p in built.products if p.brand == HOUSE_BRAND]  # never unlabelled
    house = [p for p in built.products if p.brand == HOUSE_LABEL]
    assert all(built.real_brands.get(p.category, 0) < MIN_REAL_BRANDS for p in house)
    assert by_category["nail_polish"]
    ids = [p.product_id for p in built.products]
    assert len(ids) == len(set(ids))
    # Rule on a synthetic catalog: 4 real brands keep the house product (labelled), 5 do not.
    real = [{"category": "brow", "brand": f"B{i}"} for i in range(4)]
    real += [{"category": "blush", "brand": f"B{i}"} for i in range(5)]
    ours = [{"category": "brow", "brand": HOUSE_BRAND}, {"category": "blush", "brand": HOUSE_BRAND}]
    assert house_products_for_gaps(ours, real) == [{"category": "brow", "brand": HOUSE_LABEL}]


def test_seed_report_text() -> None:
    text = catalog_report(shared_data_dir())
    for word in ("palette_split", "colour_word", "near_white_eye", "duplicate_merged",
                 "nail_polish", "concealer", "highlighter"):  # fmt: skip
        assert word in text
