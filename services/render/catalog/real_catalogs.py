"""Readers that turn the real shade data sets (shared/data/catalog, MIT) and the authored JSON
into ProductPayloads for the public catalog. Pure functions of the files: the same files give
the same products, ids and order, which is what makes re-seeding a no-op.

* pudding_foundation/allShades.csv (The Pudding, 2021, Sephora/Ulta): 6,816 shades, grouped
  into products by (brand, product). Shade name "<code> <name>" from its `specific`/`name`
  columns, shade id the slug of the code (else of the name).
* pudding_makeup_shades/shades.csv (The Pudding, 2018): 625 shades of 39 best-selling
  foundations. The source has no shade names: they are "Shade <n>" in the source's order.
* lipstick/lipstick.json (Ovilia/lipstick, 2018): 287 shades of 5 brands; brand -> series ->
  shades. Series and shade names stay Chinese as published; brands get their usual Latin
  names so one brand filter finds Dior's foundations and lipsticks alike. Finish from the
  series name (matte/velvet -> matte, lacquer/gloss/oil/shine -> gloss, gold glitter ->
  shimmer), otherwise satin.

* makeup_api/makeup.json (the public "Makeup API", 2017-18): 931 products of 57 brands in every
  category (lips, cheeks, eyes, brows, base incl. concealer and highlighter, nail polish),
  cleaned by makeup_api.py, which reports every shade and product it drops, splits, merges or
  fixes. Its products named like one of the measured data sets above are left to those.

Prices: only makeup_api has them (its currency, else its shop's); the others are 0 ("unknown").

The house products (authored_products.json, brand "tryon Studio") only fill gaps: a category
keeps them only while the real data has fewer than MIN_REAL_BRANDS brands in it, and the kept
ones are labelled "tryon Studio (house)".
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.common.payloads import ProductPayload
from services.render.catalog.validation import parse_products

if TYPE_CHECKING:  # makeup_api imports this module's helpers
    from services.render.catalog.makeup_api import CleaningReport

AUTHORED_PRODUCTS_JSON = Path(__file__).with_name("authored_products.json")

LIPSTICK_BRANDS = {
    "圣罗兰": "Yves Saint Laurent",
    "香奈儿可可小姐": "Chanel",
    "迪奥": "Dior",
    "美宝莲": "Maybelline",
    "纪梵希": "Givenchy",
}
# Stable Latin ids for the Chinese series names (the products they are sold as).
LIPSTICK_SERIES_IDS = {
    "莹亮纯魅唇膏": "ysl-rouge-volupte-shine",
    "纯口红": "ysl-rouge-pur-couture",
    "莹亮纯魅美唇膏": "ysl-rouge-volupte",
    "纯色唇釉叛逆裸唇": "ysl-vernis-a-levres-rebel-nudes",
    "莹亮绚染唇油": "ysl-volupte-tint-in-oil",
    "甜吻唇颊霜": "ysl-baby-doll-kiss-and-blush",
    "莹亮灿金唇彩": "ysl-gloss-volupte",
    "唇膏水亮": "chanel-rouge-coco-shine",
    "炫亮魅力唇膏": "chanel-rouge-allure",
    "炫亮魅力唇膏丝绒": "chanel-rouge-allure-velvet",
    "魅惑釉唇膏": "dior-addict-lacquer-stick",
    "魅惑染唇蜜": "dior-addict-lip-tattoo",
    "烈艳蓝金唇膏": "rouge-dior",
    "绝色持久唇膏绒情哑光": "maybelline-color-sensational-matte",
    "高定香榭天鹅绒唇膏（小羊皮）": "givenchy-le-rouge",
    "禁忌之吻霓虹唇膏": "givenchy-rouge-interdit",
}
# First match wins: "gold glitter gloss" is a shimmer before it is a gloss.
_SERIES_FINISHES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("金属", "metallic"), "metallic"),
    (("灿金", "闪", "shimmer", "glitter"), "shimmer"),
    (("哑光", "丝绒", "天鹅绒", "绒", "matte", "velvet"), "matte"),
    (("唇釉", "釉", "唇油", "唇彩", "唇蜜", "水亮", "莹亮", "gloss", "lacquer", "shine"), "gloss"),
    (("缎", "satin"), "satin"),
)
# Sheer formulas show more lip through them than a bullet lipstick.
_SHEER_SERIES = (("唇油", 0.45), ("唇蜜", 0.55), ("唇彩", 0.55), ("水亮", 0.6))
_FINISH_OPACITY = {"matte": 0.92, "satin": 0.85, "gloss": 0.7, "shimmer": 0.7, "metallic": 0.85}


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _unique(base: str, taken: set[str]) -> str:
    """base, or base-2, base-3...: the sources repeat a few shade codes within a product."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def _na(value: str) -> str:
    value = " ".join(value.split())
    return "" if value in ("NA", "N/A") else value


def _foundation_finish(product_name: str) -> str:
    name = product_name.lower()
    if re.search(r"matte|mattifying|velvet|powder", name):
        return "matte"
    return "satin"  # luminous/dewy/natural: our finishes have no "dewy"; satin is closest


def _foundation_coverage(product_name: str) -> float:
    name = product_name.lower()
    if re.search(r"full[- ]coverage|full cover|shape tape|double wear|pro filt", name):
        return 0.9
    if re.search(r"tint|sheer|\bbb\b|\bcc\b|serum|skin perfector|moisturi", name):
        return 0.35
    return 0.65


def _foundation(brand: str, name: str, product_id: str, shades: list[dict[str, Any]]) -> dict:
    coverage = _foundation_coverage(name)
    return {
        "product_id": product_id,
        "brand": brand,
        "name": name,
        "category": "foundation",
        "price_currency": "USD",
        "price_minor": 0,
        "shades": [
            {**s, "finish": _foundation_finish(name), "opacity": coverage, "coverage": coverage}
            for s in shades
        ],
    }


def _rows_by_product(csv_path: Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    """The CSV's rows grouped by (brand, product), in file order."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    with csv_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            groups.setdefault((row["brand"].strip(), row["product"].strip()), []).append(row)
    return groups


def pudding_foundations(csv_path: Path) -> list[dict[str, Any]]:
    groups = _rows_by_product(csv_path)
    out = []
    for (brand, product), rows in groups.items():
        taken: set[str] = set()
        shade_list = []
        for i, row in enumerate(rows):
            code, label = _na(row["specific"]), _na(row["name"])
            name = " ".join(p for p in (code, label) if p) or f"Shade {i + 1}"
            shade_id = _unique(slugify(code or label) or str(i + 1), taken)
            shade_list.append({"shade_id": shade_id, "name": name, "hex": row["hex"].strip()})
        out.append(_foundation(brand, product, slugify(f"{brand} {product}"), shade_list))
    return out


def pudding_makeup_shades(csv_path: Path, taken_product_ids: set[str]) -> list[dict[str, Any]]:
    groups = _rows_by_product(csv_path)
    out = []
    for (brand, product), rows in groups.items():
        shade_list = [
            {"shade_id": f"{i + 1:02d}", "name": f"Shade {i + 1}", "hex": "#" + row["hex"].strip()}
            for i, row in enumerate(rows)
        ]
        # The 2018 study names some products like the 2021 scrape does: keep both, apart.
        product_id = _unique(slugify(f"{brand} {product}"), taken_product_ids)
        out.append(_foundation(brand, product, product_id, shade_list))
    return out


def _series_finish(series: str) -> str:
    lowered = series.lower()
    for words, finish in _SERIES_FINISHES:
        if any(w in lowered for w in words):
            return finish
    return "satin"


def _series_opacity(series: str, finish: str) -> float:
    for word, opacity in _SHEER_SERIES:
        if word in series:
            return opacity
    return _FINISH_OPACITY[finish]


def lipsticks(json_path: Path) -> list[dict[str, Any]]:
    data = json.loads(json_path.read_text(encoding="utf-8"))
    products: dict[str, dict[str, Any]] = {}
    taken_shades: dict[str, set[str]] = {}
    for brand_entry in data["brands"]:
        brand = LIPSTICK_BRANDS.get(brand_entry["name"], brand_entry["name"])
        for series_entry in brand_entry["series"]:
            series = series_entry["name"].strip()
            product_id = LIPSTICK_SERIES_IDS.get(series) or (
                f"{slugify(brand)}-lipstick-{hashlib.sha1(series.encode()).hexdigest()[:8]}"
            )
            finish = _series_finish(series)
            # Chanel's "炫亮魅力唇膏" is listed twice (20 + 1 shades): one product.
            product = products.setdefault(
                product_id,
                {
                    "product_id": product_id,
                    "brand": brand,
                    "name": series,
                    "category": "lipstick",
                    "price_currency": "USD",
                    "price_minor": 0,
                    "shades": [],
                },
            )
            taken = taken_shades.setdefault(product_id, set())
            for item in series_entry["lipsticks"]:
                code = str(item["id"]).strip()
                shade_id = _unique(slugify(code) or "shade", taken)
                product["shades"].append(
                    {
                        "shade_id": shade_id,
                        "name": " ".join(str(item.get("name", "")).split()) or code,
                        "hex": item["color"].strip(),
                        "finish": finish,
                        "opacity": _series_opacity(series, finish),
                    }
                )
    return list(products.values())


def authored_products(path: Path = AUTHORED_PRODUCTS_JSON) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["products"])


HOUSE_BRAND = "tryon Studio"
HOUSE_LABEL = "tryon Studio (house)"
# A category with real products from this many brands needs no house products.
MIN_REAL_BRANDS = 5


def brands_by_category(products: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """category -> the brands (case-blind) with at least one product in it."""
    out: dict[str, set[str]] = defaultdict(set)
    for p in products:
        out[p["category"]].add(p["brand"].strip().casefold())
    return dict(out)


def house_products_for_gaps(
    house: Sequence[dict[str, Any]], real: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The house products of the categories where the real data has fewer than MIN_REAL_BRANDS
    brands, labelled as house products; the others are left out (real products beat ours)."""
    brands = brands_by_category(real)
    return [
        {**p, "brand": HOUSE_LABEL}
        for p in house
        if len(brands.get(p["category"], ())) < MIN_REAL_BRANDS
    ]


@dataclass(frozen=True)
class PublicCatalog:
    products: list[ProductPayload]
    makeup_api_report: CleaningReport
    # category -> real brands before the house products were added
    real_brands: dict[str, int]
    house_kept: int
    house_dropped: int

    def category_table(self) -> list[tuple[str, int, int, int]]:
        """(category, products, shades, brands) of the whole public catalog."""
        rows: dict[str, list[Any]] = {}
        for p in self.products:
            row = rows.setdefault(p.category, [0, 0, set()])
            row[0] += 1
            row[1] += len(p.shades)
            row[2].add(p.brand.casefold())
        return [(c, r[0], r[1], len(r[2])) for c, r in sorted(rows.items())]

    def summary(self) -> str:
        lines = [self.makeup_api_report.summary()]
        kept = {p.category for p in self.products if p.brand == HOUSE_LABEL}
        lines.append(
            f"house products (brand {HOUSE_BRAND!r}): {self.house_kept} kept as "
            f"{HOUSE_LABEL!r} in categories with < {MIN_REAL_BRANDS} real brands "
            f"({', '.join(sorted(kept)) or 'none'}), {self.house_dropped} left out"
        )
        lines.append(f"  {'category':<12} {'products':>8} {'shades':>7} {'brands':>6} {'real':>5}")
        for category, n_products, n_shades, n_brands in self.category_table():
            real = self.real_brands.get(category, 0)
            lines.append(f"  {category:<12} {n_products:>8} {n_shades:>7} {n_brands:>6} {real:>5}")
        return "\n".join(lines)


def build_public_catalog(shared_data: Path) -> PublicCatalog:
    """Every public product, validated (the measured data sets, the Makeup API's cleaned
    products, then house products where the real ones leave a gap), and what it took."""
    from services.render.catalog.makeup_api import makeup_api_products, name_key

    catalog_dir = shared_data / "catalog"
    foundations = pudding_foundations(catalog_dir / "pudding_foundation" / "allShades.csv")
    taken = {p["product_id"] for p in foundations}
    measured = [
        *foundations,
        *pudding_makeup_shades(catalog_dir / "pudding_makeup_shades" / "shades.csv", taken),
        *lipsticks(catalog_dir / "lipstick" / "lipstick.json"),
    ]
    makeup, report = makeup_api_products(
        catalog_dir / "makeup_api" / "makeup.json",
        known={name_key(p["brand"], p["name"]) for p in measured},
    )
    real = [*measured, *makeup]
    house = authored_products()
    gaps = house_products_for_gaps(house, real)
    raw: Iterable[dict[str, Any]] = [*real, *gaps]
    return PublicCatalog(
        products=parse_products(list(raw), max_products=None),
        makeup_api_report=report,
        real_brands={c: len(b) for c, b in brands_by_category(real).items()},
        house_kept=len(gaps),
        house_dropped=len(house) - len(gaps),
    )


def public_catalog(shared_data: Path) -> list[ProductPayload]:
    """Every public product, validated: see build_public_catalog."""
    return build_public_catalog(shared_data).products
