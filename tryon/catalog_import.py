"""Partner catalog import: a CSV or JSON file -> validated Product protos -> UpsertProducts.

`tryon catalog import FILE [--dry-run] [--json]`, or `import_catalog(client, path)`.

The format is the file's extension (.csv, .json), else its content (JSON starts with `[` or
`{`). Text is UTF-8 (a BOM is fine).

CSV: one row per SHADE, with a header row naming the columns (any order):

  product_id   required; 1..128 characters, no control characters, no surrounding spaces
  brand        required; 1..200 characters
  name         required; the product's name, 1..300 characters
  category     required; lipstick, lip_liner, blush, bronzer, contour, highlighter,
               foundation, concealer, eyeshadow, eyeliner, mascara, brow, nail_polish
  price        required; in major units, e.g. 18.50 (>= 0, at most the currency's decimals)
  currency     optional; ISO 4217 code, default USD
  swatch_url   optional; your swatch image (http(s):// or data:image/), else we render one
  shade_id     required; 1..64 characters, unique within its product
  shade_name   optional; at most 200 characters (empty: the shade_id)
  hex          required; #rrggbb
  finish       optional; matte, satin, gloss, shimmer or metallic (empty: satin)
  opacity      optional; 0..1, how much the shade hides the skin (empty or 0: 0.85)
  coverage     optional; 0..1, foundation/concealer coverage (empty or 0: 0.5)

Rows with the same product_id are one product (1..500 shades): its product fields (brand,
name, category, price, currency, swatch_url) must agree on every row, else every row of it is
rejected. Spaces around a cell are ignored; an unknown column makes the file unreadable (a
typo would otherwise drop data). A product is imported whole or not at all (an upsert
replaces its shades), so one bad row rejects the other rows of its product too.

JSON: a list of products, or {"products": [...]}, each

  {"product_id": "...", "brand": "...", "name": "...", "category": "lipstick",
   "price": {"currency": "USD", "amount": 18.5}  (or a number: USD),
   "swatch_url": "https://...",                  (optional)
   "shades": [{"shade_id": "...", "name": "...", "hex": "#rrggbb", "finish": "matte",
               "opacity": 0.9, "coverage": 0.5}]}  (name, finish, opacity, coverage optional)

with the same rules as the CSV columns. A product_id listed twice is rejected (both times).

Every row or product is checked here with the rules the server applies, and only valid
products are sent, in batches of at most 500 (UpsertProducts is all-or-nothing per call). If
the server still refuses a batch (INVALID_ARGUMENT), the batch is bisected until the product(s)
it refuses are found: those are rejected with the server's message and the rest are written.
The upsert is idempotent: a product identical to the stored one is left untouched, so a second
import of the same file reports 0 created, 0 updated.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import grpc

from tryon.v1 import types_pb2

# The API's names: ProductCategory and Finish values, lower case, without their prefix.
CATEGORIES: tuple[str, ...] = tuple(
    name.removeprefix("PRODUCT_CATEGORY_").lower()
    for name in types_pb2.ProductCategory.keys()
    if name != "PRODUCT_CATEGORY_UNSPECIFIED"
)
FINISHES: tuple[str, ...] = ("matte", "satin", "gloss", "shimmer", "metallic")
CATEGORY_ENUMS = {
    n: types_pb2.ProductCategory.Value(f"PRODUCT_CATEGORY_{n.upper()}") for n in CATEGORIES
}
FINISH_ENUMS = {n: types_pb2.Finish.Value(f"FINISH_{n.upper()}") for n in FINISHES}

# The server's limits (services/common/payloads.py, services/render/catalog/validation.py).
MAX_PRODUCT_ID = 128
MAX_SHADE_ID = 64
MAX_BRAND = 200
MAX_NAME = 300
MAX_SHADE_NAME = 200
MAX_SHADES = 500
MAX_SWATCH_URI = 2048
HEX = re.compile(r"#[0-9a-fA-F]{6}")  # fullmatch: no trailing newline
CURRENCY = re.compile(r"[A-Z]{3}")
# Per UpsertProducts call: the server takes 1,000; 500 keeps calls short. Also capped in bytes,
# well under the gateway's message limit.
BATCH_SIZE = 500
MAX_BATCH_BYTES = 4 << 20

# ISO 4217 minor units where they are not 2.
_DECIMALS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}

PRODUCT_COLUMNS = ("product_id", "brand", "name", "category", "price", "currency", "swatch_url")
SHADE_COLUMNS = ("shade_id", "shade_name", "hex", "finish", "opacity", "coverage")
COLUMNS = PRODUCT_COLUMNS + SHADE_COLUMNS
REQUIRED_COLUMNS = ("product_id", "brand", "name", "category", "price", "shade_id", "hex")
PRODUCT_FIELDS = ("product_id", "brand", "name", "category", "price", "swatch_url", "shades")
SHADE_FIELDS = ("shade_id", "name", "hex", "finish", "opacity", "coverage")


class CatalogFileError(ValueError):
    """The file as a whole cannot be read (not UTF-8, not CSV/JSON, missing columns...)."""


@dataclass(frozen=True)
class Rejection:
    """A CSV row (line: its line in the file, the header being line 1) or a JSON product
    (index: its position in the list, from 0) that was not imported, and why."""

    product_id: str
    reason: str
    line: int | None = None
    index: int | None = None

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line is not None else f"products[{self.index}]"


@dataclass
class ImportReport:
    source: str
    format: str  # "csv" or "json"
    rows: int  # CSV data rows, or JSON products
    products: int  # distinct products read
    valid: int  # products that passed the checks here (sent, unless dry_run)
    dry_run: bool = False
    upserted: int = 0  # products the server accepted
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # accepted and identical to the stored product: not rewritten
    calls: int = 0  # UpsertProducts calls, bisection included
    rejected: list[Rejection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rejected"] = [
            {k: v for k, v in asdict(r).items() if v is not None} for r in self.rejected
        ]
        return out


@dataclass
class ParsedCatalog:
    format: str
    rows: int
    products: list[types_pb2.Product]
    # Where each valid product came from: its CSV lines, or [its JSON index].
    origins: dict[str, list[int]]
    rejected: list[Rejection]
    product_ids: int  # distinct product ids read

    def reject(self, product_id: str, reason: str) -> list[Rejection]:
        """Rejections for every row of a product that was going to be sent."""
        key = "line" if self.format == "csv" else "index"
        return [
            Rejection(product_id, reason, **{key: n})  # type: ignore[arg-type]
            for n in self.origins.get(product_id, [None])
        ]


# --- the server's rules ----------------------------------------------------------------------


def _bad_id(value: str) -> str | None:
    if value != value.strip():
        return "has leading or trailing spaces"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "contains control characters"
    return None


def _length(label: str, value: str, low: int, high: int) -> str | None:
    if not low <= len(value) <= high:
        return f"{label} must be {low}..{high} characters (got {len(value)})"
    return None


def shade_problems(shade: types_pb2.Shade) -> list[str]:
    """What the server would refuse in one shade (messages name the field, not its position)."""
    problems = [
        _length("shade_id", shade.shade_id, 1, MAX_SHADE_ID),
        _length("shade name", shade.name, 0, MAX_SHADE_NAME),
    ]
    if shade.shade_id and (why := _bad_id(shade.shade_id)):
        problems.append(f"shade_id {shade.shade_id!r} {why}")
    if not HEX.fullmatch(shade.hex):
        problems.append(f"hex {shade.hex!r} is not #rrggbb" if shade.hex else "hex is empty")
    if shade.finish not in FINISH_ENUMS.values() and shade.finish != types_pb2.FINISH_UNSPECIFIED:
        problems.append(f"finish {shade.finish} is not a Finish value")
    for name in ("opacity", "coverage"):
        value = getattr(shade, name)
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            problems.append(f"{name} {value:g} must be between 0 and 1")
    return [p for p in problems if p]


def product_problems(product: types_pb2.Product) -> list[str]:
    """What the server would refuse in a product, its own fields and the shades' ids together
    (each shade's fields: shade_problems)."""
    problems = [
        _length("product_id", product.product_id, 1, MAX_PRODUCT_ID),
        _length("brand", product.brand, 1, MAX_BRAND),
        _length("name", product.name, 1, MAX_NAME),
    ]
    if product.product_id and (why := _bad_id(product.product_id)):
        problems.append(f"product_id {product.product_id!r} {why}")
    if product.category not in CATEGORY_ENUMS.values():
        problems.append(f"category {product.category} is not a ProductCategory value")
    currency = product.price.currency or "USD"
    if not CURRENCY.fullmatch(currency):
        problems.append(f"currency {currency!r} is not a 3-letter ISO 4217 code such as 'USD'")
    if product.price.amount_minor < 0:
        problems.append("price must be >= 0")
    uri = product.swatch_uri
    if uri and (
        len(uri) > MAX_SWATCH_URI or not uri.startswith(("https://", "http://", "data:image/"))
    ):
        problems.append(
            "swatch_url must be empty (we render one), an http(s) URL or a data:image/ URI of "
            f"at most {MAX_SWATCH_URI} characters"
        )
    if not 1 <= len(product.shades) <= MAX_SHADES:
        problems.append(f"has {len(product.shades)} shades: a product needs 1..{MAX_SHADES}")
    seen: dict[str, int] = {}
    for j, shade in enumerate(product.shades):
        if shade.shade_id in seen:
            problems.append(
                f"shade_id {shade.shade_id!r} repeats (shades[{seen[shade.shade_id]}] "
                f"and shades[{j}]): shade ids must be unique within a product"
            )
        seen.setdefault(shade.shade_id, j)
    return [p for p in problems if p]


def validate_product(product: types_pb2.Product) -> list[str]:
    """Every problem the server would refuse this product for; [] when it would accept it."""
    problems = product_problems(product)
    for j, shade in enumerate(product.shades):
        problems += [f"shades[{j}] {p}" for p in shade_problems(shade)]
    return problems


# --- values ----------------------------------------------------------------------------------


def _price(amount: Any, currency: str) -> tuple[types_pb2.Money | None, str | None]:
    """A price in major units (number or text) -> Money in minor units, or a problem."""
    currency = currency or "USD"
    if not CURRENCY.fullmatch(currency):
        return None, f"currency {currency!r} is not a 3-letter ISO 4217 code such as 'USD'"
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        return None, f"price {amount!r} is not a number"
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        return None, f"price {amount!r} is not a number such as 18.50"
    if not value.is_finite():
        return None, f"price {amount!r} is not a number such as 18.50"
    if value < 0:
        return None, f"price {amount} must be >= 0"
    decimals = _DECIMALS.get(currency, 2)
    minor = value.scaleb(decimals)
    if minor != minor.to_integral_value():
        return None, f"price {amount} has more than {decimals} decimals for {currency}"
    return types_pb2.Money(currency=currency, amount_minor=int(minor)), None


def _fraction(name: str, value: Any) -> tuple[float, str | None]:
    if value is None or value == "":
        return 0.0, None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0, f"{name} {value!r} is not a number"
    try:
        number = float(value)
    except ValueError:
        return 0.0, f"{name} {value!r} is not a number between 0 and 1"
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        return 0.0, f"{name} {value} must be between 0 and 1"
    return number, None


def _category(value: Any) -> tuple[int, str | None]:
    name = value.strip().lower() if isinstance(value, str) else value
    if name in CATEGORY_ENUMS:
        return CATEGORY_ENUMS[name], None
    if not name:
        return 0, "category is empty"
    return 0, f"category {value!r} is not one of: {', '.join(CATEGORIES)}"


def _finish(value: Any) -> tuple[int, str | None]:
    name = value.strip().lower() if isinstance(value, str) else value
    if not name:
        return types_pb2.FINISH_UNSPECIFIED, None  # the server's default: satin
    if name in FINISH_ENUMS:
        return FINISH_ENUMS[name], None
    return 0, f"finish {value!r} is not one of: {', '.join(FINISHES)}"


def _shade(fields: dict[str, Any]) -> tuple[types_pb2.Shade, list[str]]:
    """A shade from plain fields (shade_id, name, hex, finish, opacity, coverage)."""
    problems: list[str] = []
    texts = {}
    for key in ("shade_id", "name", "hex"):
        value = fields.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems.append(f"{key} {value!r} is not text")
            value = ""
        texts[key] = value
    finish, why = _finish(fields.get("finish"))
    opacity, why_opacity = _fraction("opacity", fields.get("opacity"))
    coverage, why_coverage = _fraction("coverage", fields.get("coverage"))
    problems += [p for p in (why, why_opacity, why_coverage) if p]
    shade = types_pb2.Shade(
        shade_id=texts["shade_id"],
        name=texts["name"] or texts["shade_id"],
        hex=texts["hex"],
        finish=finish,
        opacity=opacity,
        coverage=coverage,
    )
    # Range problems were reported above from the text; the rest from the message.
    problems += [
        p for p in shade_problems(shade) if not p.startswith(("opacity", "coverage", "finish"))
    ]
    return shade, problems


# --- CSV -------------------------------------------------------------------------------------


def parse_csv(text: str) -> ParsedCatalog:
    """One row per shade (see the module's docstring); raises CatalogFileError when the file
    is not a CSV with the required columns."""
    if "\x00" in text:
        raise CatalogFileError("the file contains NUL bytes: not a text CSV")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # blank lines before the header
        if header is None:
            raise CatalogFileError("the file is empty: expected a header row and one row a shade")
        columns = [cell.strip().lower() for cell in header]
        unknown = [c for c in columns if c not in COLUMNS]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing or unknown:
            what = []
            if missing:
                what.append(f"no column {', '.join(missing)}")
            if unknown:
                what.append(f"unknown column {', '.join(repr(c) for c in unknown)}")
            raise CatalogFileError(
                f"the header (line {reader.line_num}) has {'; '.join(what)}: the columns are "
                f"{', '.join(COLUMNS)} (required: {', '.join(REQUIRED_COLUMNS)})"
            )
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise CatalogFileError(f"the header names {', '.join(repeated)} more than once")
        rows: list[tuple[int, dict[str, str]]] = []
        rejected: list[Rejection] = []
        previous_end = reader.line_num
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            values = dict(zip(columns, (c.strip() for c in cells), strict=False))
            if len(cells) != len(columns):
                lacking = columns[len(cells) :]
                reason = f"has {len(cells)} cells, the header {len(columns)}" + (
                    f": no value for {', '.join(lacking)}" if lacking else ""
                )
                rejected.append(Rejection(values.get("product_id", ""), reason, line=line))
                continue
            rows.append((line, values))
    except csv.Error as exc:
        raise CatalogFileError(f"not a readable CSV (line {reader.line_num}): {exc}") from None
    return _csv_products(rows, rejected, len(rows) + len(rejected))


def _csv_products(
    rows: list[tuple[int, dict[str, str]]], rejected: list[Rejection], count: int
) -> ParsedCatalog:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for line, values in rows:
        if not values.get("product_id"):
            rejected.append(Rejection("", "product_id is empty", line=line))
        else:
            groups[values["product_id"]].append((line, values))
    products: list[types_pb2.Product] = []
    origins: dict[str, list[int]] = {}
    for product_id, members in groups.items():
        lines = [line for line, _ in members]
        bad: dict[int, str] = {}  # line -> reason
        # The product's fields, as each row has them (category case and price spelling aside).
        heads = [_csv_head(values) for _, values in members]
        conflicts = []
        for k, name in enumerate(PRODUCT_COLUMNS[1:]):
            seen: dict[Any, list[int]] = defaultdict(list)
            for line, head in zip(lines, heads, strict=True):
                seen[head[k]].append(line)
            if len(seen) > 1:
                shown = " vs ".join(
                    f"{_shown(members, name, at[0])} (line{'s' if len(at) > 1 else ''} "
                    f"{', '.join(map(str, at))})"
                    for at in seen.values()
                )
                conflicts.append(f"{name}: {shown}")
        if conflicts:
            reason = (
                f"the rows of product {product_id!r} disagree on "
                f"{'; '.join(conflicts)}: a product's fields must be the same on each row"
            )
            rejected += [Rejection(product_id, reason, line=line) for line in lines]
            continue
        first = members[0][1]
        product = types_pb2.Product(
            product_id=product_id,
            brand=first.get("brand", ""),
            name=first.get("name", ""),
            swatch_uri=first.get("swatch_url", ""),
        )
        head_problems = []
        product.category, why = _category(first.get("category", ""))
        if why:
            head_problems.append(why)
        if not first.get("price"):
            head_problems.append("price is empty: give it in major units, e.g. 18.50")
        else:
            money, why = _price(first["price"], first.get("currency", ""))
            if money is not None:
                product.price.CopyFrom(money)
            elif why:
                head_problems.append(why)
        head_problems += [
            p
            for p in product_problems(product)
            if not p.startswith(("category", "has ", "shade_id", "currency", "price"))
        ]
        shade_at: dict[str, list[int]] = defaultdict(list)
        for line, values in members:
            shade, problems = _shade(
                {
                    "shade_id": values.get("shade_id"),
                    "name": values.get("shade_name"),
                    "hex": values.get("hex"),
                    "finish": values.get("finish"),
                    "opacity": values.get("opacity"),
                    "coverage": values.get("coverage"),
                }
            )
            product.shades.append(shade)
            if shade.shade_id:
                shade_at[shade.shade_id].append(line)
            if problems:
                bad[line] = "; ".join(problems)
        for shade_id, at in shade_at.items():
            if len(at) > 1:
                for line in at:
                    others = ", ".join(str(n) for n in at if n != line)
                    reason = (
                        f"shade_id {shade_id!r} of {product_id!r} is also on line "
                        f"{others}: shade ids must be unique within a product"
                    )
                    bad[line] = f"{bad[line]}; {reason}" if line in bad else reason
        if len(members) > MAX_SHADES:
            head_problems.append(f"has {len(members)} shades (rows): at most {MAX_SHADES}")
        if head_problems:
            reason = "; ".join(head_problems)
            rejected += [
                Rejection(
                    product_id, f"{bad[line]}; {reason}" if line in bad else reason, line=line
                )
                for line in lines
            ]
            continue
        if bad:
            named = ", ".join(str(n) for n in sorted(bad))
            for line in lines:
                reason = bad.get(line) or (
                    f"not imported: product {product_id!r} has an invalid "
                    f"row (line {named}) and is imported whole or not at all"
                )
                rejected.append(Rejection(product_id, reason, line=line))
            continue
        if problems := validate_product(product):  # anything the row checks above missed
            rejected += [Rejection(product_id, "; ".join(problems), line=n) for n in lines]
            continue
        products.append(product)
        origins[product_id] = lines
    rejected.sort(key=lambda r: r.line or 0)
    ids = set(groups) | {r.product_id for r in rejected if r.product_id}
    return ParsedCatalog("csv", count, products, origins, rejected, len(ids))


def _csv_head(values: dict[str, str]) -> tuple[Any, ...]:
    """A row's product fields, normalised so that equal values compare equal."""
    price: Any = values.get("price", "")
    try:
        number = Decimal(price)
        price = number if number.is_finite() else price
    except InvalidOperation:
        pass
    return (
        values.get("brand", ""),
        values.get("name", ""),
        values.get("category", "").lower(),
        price,
        values.get("currency") or "USD",
        values.get("swatch_url", ""),
    )


def _shown(members: list[tuple[int, dict[str, str]]], name: str, line: int) -> str:
    values = dict(members)[line]
    return repr(values.get(name) or ("USD" if name == "currency" else ""))


# --- JSON ------------------------------------------------------------------------------------


def parse_json(text: str) -> ParsedCatalog:
    """A list of products (or {"products": [...]}), see the module's docstring."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogFileError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        raise CatalogFileError('expected a JSON list of products or {"products": [...]}')
    rejected: list[Rejection] = []
    candidates: list[tuple[int, types_pb2.Product]] = []
    for i, item in enumerate(data):
        product, problems = _json_product(item)
        if problems:
            rejected.append(Rejection(product.product_id, "; ".join(problems), index=i))
        else:
            candidates.append((i, product))
    positions: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(data):
        pid = item.get("product_id") if isinstance(item, dict) else None
        if isinstance(pid, str) and pid:
            positions[pid].append(i)
    products: list[types_pb2.Product] = []
    origins: dict[str, list[int]] = {}
    for i, product in candidates:
        at = positions[product.product_id]
        if len(at) > 1:
            listed = ", ".join(f"products[{n}]" for n in at)
            rejected.append(
                Rejection(
                    product.product_id,
                    f"product_id {product.product_id!r} "
                    f"appears more than once ({listed}): list each product "
                    "once",
                    index=i,
                )
            )
            continue
        products.append(product)
        origins[product.product_id] = [i]
    rejected.sort(key=lambda r: r.index or 0)
    return ParsedCatalog("json", len(data), products, origins, rejected, len(positions))


def _json_product(item: Any) -> tuple[types_pb2.Product, list[str]]:
    product = types_pb2.Product()
    if not isinstance(item, dict):
        return product, [f"expected a product object, got {type(item).__name__}"]
    problems: list[str] = []
    unknown = [k for k in item if k not in PRODUCT_FIELDS and k != "swatch_uri"]
    if unknown:
        problems.append(
            f"unknown field {', '.join(map(repr, unknown))}: the fields are "
            f"{', '.join(PRODUCT_FIELDS)}"
        )
    for key in ("product_id", "brand", "name"):
        value = item.get(key, "")
        if isinstance(value, str):
            setattr(product, key, value)
        else:
            problems.append(f"{key} {value!r} is not text")
    swatch = item.get("swatch_url", item.get("swatch_uri", "")) or ""
    if isinstance(swatch, str):
        product.swatch_uri = swatch
    else:
        problems.append(f"swatch_url {swatch!r} is not text")
    product.category, why = _category(item.get("category", ""))
    if why:
        problems.append(why)
    price = item.get("price")
    money, why = None, None
    if price is None:
        why = 'price is missing: a number (USD) or {"currency": "EUR", "amount": 18.5}'
    elif isinstance(price, dict):
        extra = [k for k in price if k not in ("currency", "amount", "amount_minor")]
        currency = price.get("currency") or "USD"
        if extra:
            why = f"price has unknown field {', '.join(map(repr, extra))}: currency, amount"
        elif not isinstance(currency, str):
            why = f"price currency {currency!r} is not text"
        elif "amount_minor" in price and "amount" not in price:
            minor = price["amount_minor"]
            if isinstance(minor, int) and not isinstance(minor, bool):
                money = types_pb2.Money(currency=currency, amount_minor=minor)
                why = None if minor >= 0 else f"price amount_minor {minor} must be >= 0"
            else:
                why = f"price amount_minor {minor!r} is not a whole number"
        elif "amount" not in price:
            why = "price has no amount"
        else:
            money, why = _price(price["amount"], currency)
    else:
        money, why = _price(price, "USD")
    if why:
        problems.append(why)
    elif money is not None:
        product.price.CopyFrom(money)
    shades = item.get("shades", [])
    if not isinstance(shades, list):
        problems.append(f"shades must be a list of 1..{MAX_SHADES} shades")
        shades = []
    for j, raw in enumerate(shades):
        if not isinstance(raw, dict):
            problems.append(f"shades[{j}] is not an object")
            continue
        extra = [k for k in raw if k not in SHADE_FIELDS]
        if extra:
            problems.append(
                f"shades[{j}] unknown field {', '.join(map(repr, extra))}: the "
                f"fields are {', '.join(SHADE_FIELDS)}"
            )
        shade, shade_why = _shade(raw)
        product.shades.append(shade)
        problems += [f"shades[{j}] {p}" for p in shade_why]
    if not problems:
        problems = validate_product(product)
    else:  # the product's own fields and repeated shade ids (each shade's were seen above)
        problems += [p for p in product_problems(product) if not p.startswith("category")]
    return product, problems


# --- files -----------------------------------------------------------------------------------


def parse_text(text: str, fmt: str | None = None) -> ParsedCatalog:
    """fmt "csv" or "json"; None: JSON when the text starts with [ or {, else CSV."""
    text = text.removeprefix("\ufeff")
    if fmt is None:
        fmt = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    return parse_json(text) if fmt == "json" else parse_csv(text)


def load(path: str | Path) -> ParsedCatalog:
    """Reads and checks a catalog file; CatalogFileError when it cannot be read at all."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogFileError(
            f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8 CSV or JSON"
        ) from None
    if not text.strip():
        raise CatalogFileError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    fmt = {".csv": "csv", ".json": "json"}.get(suffix)
    try:
        return parse_text(text, fmt)
    except CatalogFileError as exc:
        raise CatalogFileError(f"{path}: {exc}") from None


# --- upserting -------------------------------------------------------------------------------


def batches(
    products: Sequence[types_pb2.Product],
    size: int = BATCH_SIZE,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterable[list[types_pb2.Product]]:
    batch: list[types_pb2.Product] = []
    total = 0
    for product in products:
        n = product.ByteSize()
        if batch and (len(batch) >= size or total + n > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(product)
        total += n
    if batch:
        yield batch


def upsert(
    upsert_products: Callable[[list[types_pb2.Product]], Any],
    parsed: ParsedCatalog,
    report: ImportReport,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Sends parsed.products in batches; a batch the server refuses (INVALID_ARGUMENT) is
    bisected so that only the refused products are rejected. Other errors propagate (what was
    written by then stays written; importing again is safe)."""

    def send(batch: list[types_pb2.Product]) -> None:
        report.calls += 1
        try:
            response = upsert_products(batch)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
                raise
            if len(batch) == 1:
                details = exc.details() or ""  # type: ignore[attr-defined]
                reason = f"refused by the server: {details.removeprefix('nothing was written: ')}"
                report.rejected += parsed.reject(batch[0].product_id, reason)
                return
            middle = len(batch) // 2
            send(batch[:middle])
            send(batch[middle:])
            return
        report.upserted += len(batch)
        report.created += response.created
        report.updated += response.updated
        report.unchanged += len(batch) - response.created - response.updated

    for batch in batches(parsed.products, batch_size):
        send(batch)
    report.rejected.sort(key=lambda r: (r.line or 0, r.index or 0))


def new_report(parsed: ParsedCatalog, source: str | Path, *, dry_run: bool = False) -> ImportReport:
    """The report of a parsed file before anything is sent (upsert fills in the rest)."""
    return ImportReport(
        source=str(source), format=parsed.format, rows=parsed.rows, products=parsed.product_ids,
        valid=len(parsed.products), dry_run=dry_run, rejected=list(parsed.rejected),
    )  # fmt: skip


def import_catalog(
    client: Any,
    path: str | Path,
    *,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Reads, checks and (unless dry_run) upserts a catalog file through client (a
    tryon.Client; unused with dry_run). CatalogFileError when the file cannot be read; a gRPC
    error other than INVALID_ARGUMENT propagates (products sent by then stay written)."""
    parsed = load(path)
    report = new_report(parsed, path, dry_run=dry_run)
    if not dry_run and parsed.products:
        upsert(client.upsert_products, parsed, report, batch_size)
    return report
