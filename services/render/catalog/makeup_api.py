"""The public "Makeup API" product list (shared/data/catalog/makeup_api/makeup.json: 931 products,
57 brands, 10 product types) cleaned into catalog products, with a report of every change.

Pure functions of the file: the same file gives the same products, ids, order and report. The
source is dirty (its SOURCE.txt lists the measured problems); each rule below is one small named
function, says why in its comment, and counts what it did in the `CleaningReport`:

* shades: palette strings ("#F7E2D1,#673E2C,...") split into one shade each; colour words
  ("gray7", "white", "black") dropped (their names often contradict them: a "Black" brow pencil
  holding "white"); near-white swatch backgrounds dropped from eyeliner, mascara and brow (and
  white neutral "shades" from face-base products); near-black placeholders for brown brows
  dropped; unnamed shades named from their colour family; hex lower-cased; a hex repeated in
  a product kept once; names trimmed and HTML entities decoded.
* products: mapped to our categories (concealer and highlighter hide in foundation's `category`
  field, contour and highlighters in names); duplicate brand+name records merged; products left
  without a shade dropped (every try-on needs one); brand spelt as the other sources spell it;
  finish, opacity and coverage derived from the name, `category` field and tags; price kept
  (minor units; currency as given, else the shop's: well.ca is Canadian, the others US).
* nail polish stays in the catalog as "nail_polish": searchable and listable, not try-on-able
  (services/render/look.py says so where a look is resolved).
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from services.common.color import hex_to_lab
from services.common.colour_families import colour_family
from services.render.catalog.real_catalogs import (
    _foundation_coverage as foundation_coverage,
)
from services.render.catalog.real_catalogs import (
    _foundation_finish as foundation_finish,
)
from services.render.catalog.real_catalogs import _unique, slugify

PRODUCT_ID_PREFIX = "mk-"
MAX_SHADE_ID_CHARS = 60  # the payload allows 64; _unique may add "-NN"

# -- the report ----------------------------------------------------------------------------------

# rule -> (what happened, unit, why). The order is the order the summary prints.
RULES: dict[str, tuple[str, str, str]] = {
    "palette_split": ("split", "shades",
        "one entry held several hexes (a palette/duo/quad): one shade each, named '<name> n'"),
    "colour_word": ("dropped", "shades",
        "a colour word instead of a hex (gray7, white, black); the names often contradict it"),
    "not_a_hex": ("dropped", "shades", "empty or malformed hex"),
    "near_white_eye": ("dropped", "shades",
        "eyeliner/mascara/brow shade with L* >= 88 and C* < 12: a swatch background (a 'Blue' "
        "mascara #fbfcff); white liners whose own name says white are kept"),
    "near_white_base": ("dropped", "shades",
        "foundation/concealer/bronzer/contour shade with L* >= 95 and C* < 10: a background or "
        "a translucent powder; painting it would whiten the face"),
    "brow_highlight_end": ("dropped", "shades",
        "the lighter colour of a dual-ended brow product: its brow-bone highlighter, not a brow"),
    "near_black_brow": ("dropped", "shades",
        "brow shade named brown/blonde/auburn/taupe at L* < 10: a placeholder (real dark-brown "
        "brows are far lighter); near-blacks named black (liners, mascaras, polish) are kept"),
    "duplicate_hex": ("dropped", "shades",
        "the same hex already in the product (a palette listed whole and again as singles, "
        "or a merged duplicate): it would paint identically; first name kept"),
    "dropped_with_product": ("dropped", "shades", "shades of a product dropped below"),
    "no_colours": ("dropped", "products",
        "no colours in the source: nothing to try on or match"),
    "no_shades_left": ("dropped", "products", "every shade was dropped by the rules above"),
    "no_brand": ("dropped", "products", "no brand, and none at the start of its name"),
    "duplicate_of_other_source": ("dropped", "products",
        "the same brand+name is already in the catalog from a measured shade data set"),
    "duplicate_merged": ("merged", "products",
        "the same brand+name listed twice: one product, union of shades, fields from the "
        "record with the lower source id"),
    "shade_named_from_family": ("fixed", "shades",
        "no shade name: '<colour family> n' (e.g. 'Medium 2')"),
    "brand_from_name": ("fixed", "products",
        "no brand field: taken from the start of the name (well.ca lists it there)"),
    "brand_renamed": ("fixed", "products",
        "brand spelt as the other sources spell it ('nyx' -> 'NYX Professional Makeup')"),
    "html_cleaned": ("fixed", "products", "HTML entities/tags or stray whitespace in the name"),
    "currency_from_shop": ("fixed", "products",
        "no currency: the shop's (well.ca: CAD; the brands' own US sites: USD)"),
    "no_price": ("fixed", "products", "price missing or 0: stored as 0 (unknown)"),
    "category_from_fields": ("fixed", "products",
        "category other than product_type's, from the category field or the name "
        "(concealer, highlighter, contour, bb/cc -> foundation, ...)"),
}  # fmt: skip


@dataclass(frozen=True)
class ReportLine:
    rule: str
    action: str  # split | dropped | merged | fixed
    unit: str  # shades | products
    count: int
    reason: str


@dataclass
class CleaningReport:
    """What the cleaning did. Shade accounting: source_shades (colour entries in the file) +
    shades_added_by_split == kept_shades + dropped_shades."""

    source_products: int = 0
    source_shades: int = 0
    kept_products: int = 0
    kept_shades: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    # Examples, a few per rule, for people reading the report.
    examples: dict[str, list[str]] = field(default_factory=dict)

    def note(self, rule: str, n: int = 1, example: str = "") -> None:
        assert rule in RULES, rule
        if n <= 0:
            return
        self.counts[rule] += n
        if example:
            shown = self.examples.setdefault(rule, [])
            if len(shown) < 3:
                shown.append(example)

    @property
    def shades_added_by_split(self) -> int:
        return self.counts["palette_split"]

    def _sum(self, action: str, unit: str) -> int:
        return sum(n for r, n in self.counts.items() if RULES[r][:2] == (action, unit))

    @property
    def dropped_shades(self) -> int:
        return self._sum("dropped", "shades")

    @property
    def dropped_products(self) -> int:
        return self._sum("dropped", "products")

    @property
    def merged_products(self) -> int:
        return self._sum("merged", "products")

    def lines(self) -> list[ReportLine]:
        return [
            ReportLine(rule, action, unit, self.counts[rule], reason)
            for rule, (action, unit, reason) in RULES.items()
            if self.counts[rule]
        ]

    def summary(self) -> str:
        out = [
            f"makeup_api: {self.source_products} products, {self.source_shades} colour entries "
            f"in; {self.kept_products} products, {self.kept_shades} shades kept "
            f"({self.dropped_products} products dropped, {self.merged_products} merged; "
            f"{self.dropped_shades} shades dropped, {self.shades_added_by_split} added by "
            "splitting palettes)"
        ]
        for line in self.lines():
            out.append(
                f"  {line.action:<7} {line.count:>4} {line.unit:<8} {line.rule}: {line.reason}"
            )
        return "\n".join(out)


# -- brands --------------------------------------------------------------------------------------

# The source's lower-case brand -> how the catalog spells it. Brands the other sources also carry
# (pudding_foundation, lipstick.json) take their spelling, so one brand filter finds a brand's
# foundations and its lipsticks alike; the rest as the brands write themselves.
BRAND_NAMES = {
    "almay": "Almay", "alva": "Alva", "anna sui": "Anna Sui", "annabelle": "Annabelle",
    "benefit": "Benefit Cosmetics", "boosh": "Boosh", "burt's bees": "Burt's Bees",
    "butter london": "butter LONDON", "c'est moi": "C'est Moi",
    "cargo cosmetics": "Cargo Cosmetics", "china glaze": "China Glaze", "clinique": "Clinique",
    "coastal classic creation": "Coastal Classic Creation", "colourpop": "ColourPop",
    "covergirl": "CoverGirl", "dalish": "DaLish", "deciem": "DECIEM", "dior": "Dior",
    "dr. hauschka": "Dr. Hauschka", "e.l.f.": "e.l.f. Cosmetics", "essie": "Essie",
    "fenty": "FENTY BEAUTY by Rihanna", "glossier": "Glossier", "green people": "Green People",
    "iman": "Iman", "l'oreal": "L'Oréal", "lotus cosmetics usa": "Lotus Cosmetics USA",
    "maia's mineral galaxy": "Maia's Mineral Galaxy", "marcelle": "Marcelle",
    "marienatie": "Marie Natie", "maybelline": "Maybelline", "milani": "Milani",
    "mineral fusion": "Mineral Fusion", "misa": "Misa", "mistura": "Mistura", "moov": "Moov",
    "nudus": "Nudus", "nyx": "NYX Professional Makeup", "orly": "ORLY", "pacifica": "Pacifica",
    "penny lane organics": "Penny Lane Organics", "physicians formula": "Physicians Formula",
    "piggy paint": "Piggy Paint", "pure anada": "Pure Anada", "rejuva minerals": "Rejuva Minerals",
    "revlon": "Revlon", "sally b's skin yummies": "Sally B's Skin Yummies",
    "salon perfect": "Salon Perfect", "sante": "Sante", "sinful colours": "Sinful Colours",
    "smashbox": "Smashbox", "stila": "Stila", "suncoat": "Suncoat", "w3llpeople": "W3LL PEOPLE",
    "wet n wild": "Wet n Wild", "zorah": "Zorah", "zorah biocosmetiques": "Zorah",
}  # fmt: skip
# Records without a brand (all from well.ca) start their name with it, sometimes misspelt.
BRANDS_IN_NAMES = {
    "saint cosmetics": "Saint Cosmetics", "fake bake": "Fake Bake", "earth lab": "Earth Lab",
    "dalish": "DaLish", "bonne bell": "Bonne Bell", "pysicians formula": "Physicians Formula",
    "physicians formula": "Physicians Formula", "l' oreal": "L'Oréal", "l'oreal": "L'Oréal",
}  # fmt: skip


def brand_name(raw: str | None, product_name: str) -> tuple[str, str | None]:
    """(brand, rule applied or None). Unknown brands: each word capitalised, the rest kept."""
    if raw and raw.strip():
        key = " ".join(raw.split()).casefold()
        if key in BRAND_NAMES:
            name = BRAND_NAMES[key]
        else:
            name = " ".join(w[:1].upper() + w[1:] for w in key.split())
        return name, ("brand_renamed" if name != raw else None)
    lowered = product_name.casefold()
    for prefix, name in BRANDS_IN_NAMES.items():
        if lowered.startswith(prefix):
            return name, "brand_from_name"
    return "", "no_brand"


# -- text ------------------------------------------------------------------------------------------

_TAGS = re.compile(r"<[^>]*>")


def clean_text(raw: str | None) -> str:
    """HTML entities decoded ('&trade;' -> '™'), tags ('<BR>') made spaces, whitespace collapsed:
    the source pasted names from brand pages verbatim."""
    text = _TAGS.sub(" ", html.unescape(html.unescape(raw or "")))
    return " ".join(text.split())


# -- categories ------------------------------------------------------------------------------------

_TYPES = {
    "lipstick": "lipstick", "lip_liner": "lip_liner", "blush": "blush", "bronzer": "bronzer",
    "foundation": "foundation", "eyeshadow": "eyeshadow", "eyeliner": "eyeliner",
    "mascara": "mascara", "eyebrow": "brow", "nail_polish": "nail_polish",
}  # fmt: skip
# "Highlight Brow Contour" is a brow product with a highlighting end, not a highlighter.
_HIGHLIGHT = re.compile(
    r"highlight(?:er|ing)?\b(?! brow)|illuminat|luminiz|strob|hi-light|haloscope"
)
_CONCEALER = re.compile(r"conceal")
_CONTOUR = re.compile(r"contour")
_BLUSH = re.compile(r"blush")
_BRONZE = re.compile(r"bronz")
_FOUNDATION = re.compile(r"foundation|makeup\b")


def map_category(product_type: str | None, category: str | None, name: str) -> str | None:
    """Our category for a source record, or None for a type we do not carry.

    product_type is the base; the `category` field and the name refine it, because the source
    files several of our categories under one type (SOURCE.txt): concealer and highlighter under
    foundation's `category`, highlighters and contour kits under bronzer/blush, bb/cc creams
    under foundation (they are tinted foundations, and stay there)."""
    base = _TYPES.get(product_type or "")
    if base is None or base == "nail_polish":
        return base
    field_ = (category or "").strip().lower()
    lowered = name.lower()
    if base in ("lipstick", "lip_liner", "mascara"):
        return base  # lip and lash products name other categories only as uses ("Lip & Cheek")
    if field_ == "highlighter" or _HIGHLIGHT.search(lowered):
        return "highlighter"
    if base == "foundation":
        if _FOUNDATION.search(lowered) and not field_ == "concealer":
            return "foundation"  # "Foundation + Concealer" is a foundation
        if field_ == "concealer" or _CONCEALER.search(lowered):
            return "concealer"
        if field_ == "contour" or _CONTOUR.search(lowered):
            return "contour"
        return "foundation"
    if base in ("bronzer", "blush") and _CONTOUR.search(lowered) and not _BLUSH.search(lowered):
        return "contour"  # contour kits and duos; a "Contouring Blush" is still a blush
    if base == "bronzer" and _BLUSH.search(lowered) and not _BRONZE.search(lowered):
        return "blush"  # "Mosaic Powder Blush", filed under bronzer
    if base == "eyeliner" and "shadow" in lowered and "liner" not in lowered:
        return "eyeshadow"  # "creaseless cream eyeshadow", filed under eyeliner
    return base


# -- finishes, opacity, coverage -------------------------------------------------------------------

# First match wins: a "shimmer gloss" shimmers before it shines.
_FINISH_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("metallic", re.compile(r"metallic|\bmetals?\b|\bfoil|chrome")),
    ("shimmer", re.compile(
        r"shimmer|glitter|sparkl|\bpearl|luminous|holographic|diamond|bejewel|precious rocks")),
    ("matte", re.compile(r"matte|velvet|mattif")),
    ("gloss", re.compile(r"gloss|lacquer|laquer|\bshine\b|vinyl|\boil\b|glaze|patent")),
    ("satin", re.compile(r"\bsatin\b")),
)  # fmt: skip
# The category field says how a lip product wears: a liquid lipstick is the matte kind, a stain
# dries down flat (and sheer, below).
_LIP_FIELD_FINISH = {"lip_gloss": "gloss", "liquid": "matte", "lip_stain": "matte"}
_CATEGORY_FINISH = {"highlighter": "shimmer", "nail_polish": "gloss"}
# Lip opacity per finish, as real_catalogs does; other categories have their own strength (the
# authored house products' values, tuned on the renderer).
_FINISH_OPACITY = {"matte": 0.92, "satin": 0.85, "gloss": 0.7, "shimmer": 0.7, "metallic": 0.85}
_CATEGORY_OPACITY = {
    "lip_liner": 0.88, "blush": 0.5, "bronzer": 0.4, "contour": 0.4, "highlighter": 0.5,
    "eyeshadow": 0.8, "eyeliner": 0.95, "mascara": 0.93, "brow": 0.6, "nail_polish": 0.9,
}  # fmt: skip
_SHEER = re.compile(r"\btint|sheer|stain|\bbalm|\boil\b|glaze|lip dye|\bink\b|baby")
_SHEER_OPACITY = 0.55


def finish_from_words(text: str) -> str | None:
    lowered = text.lower()
    for finish, pattern in _FINISH_WORDS:
        if pattern.search(lowered):
            return finish
    return None


def product_finish(category: str, field_: str, name: str, tags: Sequence[str]) -> str:
    """From the name and tags first (they say "matte", "shimmer"...), then the category field
    (lip_gloss...), then the category's usual finish (a highlighter shimmers, polish shines)."""
    if category in ("foundation", "concealer"):
        return foundation_finish(name)
    found = finish_from_words(" ".join([name, *tags]))
    if found:
        return found
    if category in ("lipstick", "lip_liner") and field_ in _LIP_FIELD_FINISH:
        return _LIP_FIELD_FINISH[field_]
    return _CATEGORY_FINISH.get(category, "satin")


def shade_strength(category: str, finish: str, name: str, field_: str) -> tuple[float, float]:
    """(opacity, coverage). Base products: coverage from the name, as for the other foundation
    sources (a concealer defaults to high coverage); lips: per finish, sheer formulas lower."""
    lowered = f"{name} {field_}".lower()
    if category in ("foundation", "concealer"):
        coverage = foundation_coverage(name)
        if category == "concealer" and coverage == 0.65:
            coverage = 0.8  # a concealer's job is to cover
        return coverage, coverage
    if category == "lipstick":
        opacity = _FINISH_OPACITY[finish]
    else:
        opacity = _CATEGORY_OPACITY[category]
    if category in ("lipstick", "lip_liner", "blush") and _SHEER.search(lowered):
        opacity = min(opacity, _SHEER_OPACITY)
    return opacity, 0.5


# -- shades ----------------------------------------------------------------------------------------

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")
_COLOUR_WORD = re.compile(r"^(?:[a-z]+\d*)$", re.IGNORECASE)
_EYE_CATEGORIES = frozenset({"eyeliner", "mascara", "brow"})
_BASE_CATEGORIES = frozenset({"foundation", "concealer", "bronzer", "contour"})
_WHITE_WORDS = re.compile(r"white|snow|\bmilk\b|blanc")
_BROWN_WORDS = re.compile(r"brown|blonde|auburn|taupe|brunette|espresso|caramel")


def split_hexes(raw: str) -> list[str] | None:
    """'#F7E2D1,#673E2C' -> ['#f7e2d1', '#673e2c'] (lower-case #rrggbb); None when any part is
    not a hex. One entry holding a palette's colours is several shades of one product."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    out = []
    for p in parts:
        m = _HEX.match(p)
        if not m:
            return None
        out.append("#" + m.group(1).lower())
    return out or None


def is_colour_word(raw: str) -> bool:
    """'gray7', 'white', 'black': X11 colour names, not measurements; the source's own names
    contradict them (a 'Black' brow pencil holding 'white'), so they cannot be trusted."""
    return bool(_COLOUR_WORD.match(raw.strip())) and not _HEX.match(raw.strip())


def is_near_white_eye(category: str, lab: Sequence[float]) -> bool:
    """Eyeliner, mascara and brow shades this light and grey are the swatch's white background:
    no mascara is #fbfcff. L* >= 88 with chroma < 12 keeps real pastels (a beige khôl at L* 88.6,
    C* 18) and the darkest real brow (L* 82)."""
    lab_l, lab_a, lab_b = lab
    return category in _EYE_CATEGORIES and lab_l >= 88 and float(np.hypot(lab_a, lab_b)) < 12


def is_white_liner(category: str, shade_name: str, product_name: str) -> bool:
    """A near-white eyeliner whose own name says white (White, Pure White, 009 White Khôl,
    Immaculate Snow, Milk, "Faux Whites Eye Brightener") is a real white liner: the hex agrees
    with the name, unlike the backgrounds ('Vivid Fire' #fefeff)."""
    text = f"{shade_name} {product_name}".lower()
    return category == "eyeliner" and bool(_WHITE_WORDS.search(text))


def is_near_white_base(category: str, lab: Sequence[float]) -> bool:
    """A foundation, concealer, bronzer or contour 'shade' at L* >= 95 with chroma < 10 is a
    background or a translucent powder (no skin is #f6f6f6); painted, it would whiten the face.
    The palest real foundations here sit at L* 92-95 with C* >= 10."""
    lab_l, lab_a, lab_b = lab
    return category in _BASE_CATEGORIES and lab_l >= 95 and float(np.hypot(lab_a, lab_b)) < 10


def is_near_black_brow(category: str, shade_name: str, lab: Sequence[float]) -> bool:
    """A brow shade named brown/blonde/auburn/taupe at L* < 10 is a placeholder: even the darkest
    brown brow product is far lighter. Near-blacks elsewhere are named black (Blackest Black
    mascara, Jet Black liner, Licorice polish) and kept: black is their colour."""
    return category == "brow" and lab[0] < 10 and bool(_BROWN_WORDS.search(shade_name.lower()))


def family_name(category: str, lab: Sequence[float], taken: Counter[str]) -> str:
    """An unnamed shade (48 bronzers): its colour family and an index, 'Medium 2'."""
    family = colour_family(category, (float(lab[0]), float(lab[1]), float(lab[2])))
    taken[family] += 1
    return f"{family.capitalize()} {taken[family]}"


# -- prices ----------------------------------------------------------------------------------------

# Shops whose records carry no currency: well.ca is a Canadian retailer (its products are tagged
# "Canadian"); the brand sites without one (smashbox.com, benefitcosmetics.com, ...) sell in USD.
_SHOP_CURRENCY = {"well.ca": "CAD"}


def price(record: Mapping[str, Any]) -> tuple[str, int, list[str]]:
    """(currency, minor units, rules applied). 0 means unknown, as for the other sources."""
    rules = []
    raw = record.get("price")
    try:
        value = float(raw) if raw is not None else 0.0
    except ValueError:
        value = 0.0
    minor = round(value * 100) if value > 0 else 0
    if minor == 0:
        rules.append("no_price")
    currency = (record.get("currency") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        shop = re.sub(r"^https?://(www\.)?", "", record.get("website_link") or "").split("/")[0]
        currency = _SHOP_CURRENCY.get(shop, "USD")
        rules.append("currency_from_shop")
    return currency, minor, rules


# -- the whole file ----------------------------------------------------------------------------

_NAME_KEY_DROP = re.compile(r"™|®|\(tm\)")


def name_key(brand: str, name: str) -> tuple[str, str]:
    """What makes two records one product: brand and name, blind to case, punctuation,
    trademark signs and the brand repeated at the start of the name ("Cargo Cosmetics Contour
    Palette" by Cargo Cosmetics is its "Contour Palette")."""
    brand_slug = slugify(brand)
    name_slug = slugify(_NAME_KEY_DROP.sub("", name))
    if brand_slug and name_slug.startswith(brand_slug + "-"):
        name_slug = name_slug[len(brand_slug) + 1 :]
    return brand_slug, name_slug


@dataclass
class _Shade:
    name: str
    hex: str
    finish: str | None  # the shade's own finish word, when its name has one


@dataclass
class _Product:
    source_id: int
    brand: str
    name: str
    category: str
    field_: str
    tags: list[str]
    currency: str
    price_minor: int
    shades: list[_Shade]


def _shades_of(
    record: Mapping[str, Any], category: str, product_name: str, report: CleaningReport
) -> list[_Shade]:
    entries = record.get("product_colors") or []
    raw: list[tuple[str, str, bool]] = []  # (name, hex, from a split)
    for entry in entries:
        value = (entry.get("hex_value") or "").strip()
        name = clean_text(entry.get("colour_name"))
        hexes = split_hexes(value)
        if hexes is None:
            rule = "colour_word" if value and is_colour_word(value) else "not_a_hex"
            report.note(rule, example=f"{product_name}: {name!r} {value!r}")
            continue
        if len(hexes) > 1:
            report.note("palette_split", len(hexes) - 1, f"{product_name}: {name!r} {value}")
            if category == "brow":
                # Dual-ended brow products list (brow colour, brow-bone highlight).
                lab = hex_to_lab(hexes)
                darkest = int(np.argmin(lab[:, 0]))
                report.note("brow_highlight_end", len(hexes) - 1, f"{product_name}: {value}")
                raw.append((name, hexes[darkest], False))
                continue
            raw.extend((f"{name} {i + 1}".strip(), h, True) for i, h in enumerate(hexes))
        else:
            raw.append((name, hexes[0], False))
    if not raw:
        return []
    labs = hex_to_lab([h for _, h, _ in raw])
    out: list[_Shade] = []
    families: Counter[str] = Counter()
    for (name, hex_, _), lab in zip(raw, labs, strict=True):
        lab_t = (float(lab[0]), float(lab[1]), float(lab[2]))
        if is_near_white_eye(category, lab_t) and not is_white_liner(category, name, product_name):
            report.note("near_white_eye", example=f"{product_name}: {name!r} {hex_}")
            continue
        if is_near_white_base(category, lab_t):
            report.note("near_white_base", example=f"{product_name}: {name!r} {hex_}")
            continue
        if is_near_black_brow(category, name, lab_t):
            report.note("near_black_brow", example=f"{product_name}: {name!r} {hex_}")
            continue
        if not name:
            name = family_name(category, lab_t, families)
            report.note("shade_named_from_family", example=f"{product_name}: {name} {hex_}")
        out.append(_Shade(name=name, hex=hex_, finish=finish_from_words(name)))
    return out


def _dedupe_hexes(shades: Iterable[_Shade], report: CleaningReport, where: str) -> list[_Shade]:
    seen: set[str] = set()
    out = []
    for s in shades:
        if s.hex in seen:
            report.note("duplicate_hex", example=f"{where}: {s.name!r} {s.hex}")
            continue
        seen.add(s.hex)
        out.append(s)
    return out


def _payload(p: _Product, product_id: str) -> dict[str, Any]:
    finish = product_finish(p.category, p.field_, p.name, p.tags)
    taken: set[str] = set()
    shades = []
    for i, s in enumerate(p.shades):
        shade_finish = finish if p.category in ("foundation", "concealer") else s.finish or finish
        opacity, coverage = shade_strength(p.category, shade_finish, f"{p.name} {s.name}", p.field_)
        base = slugify(s.name)[:MAX_SHADE_ID_CHARS].strip("-") or f"{i + 1:02d}"
        shades.append({
            "shade_id": _unique(base, taken),
            "name": s.name[:200],
            "hex": s.hex,
            "finish": shade_finish,
            "opacity": opacity,
            "coverage": coverage,
        })  # fmt: skip
    return {
        "product_id": product_id,
        "brand": p.brand,
        "name": p.name[:300],
        "category": p.category,
        "price_currency": p.currency,
        "price_minor": p.price_minor,
        "shades": shades,
    }


def load(json_path: Path) -> list[dict[str, Any]]:
    return list(json.loads(json_path.read_text(encoding="utf-8")))


def clean(
    records: Sequence[Mapping[str, Any]],
    *,
    known: Iterable[tuple[str, str]] = (),
) -> tuple[list[dict[str, Any]], CleaningReport]:
    """Source records -> (product dicts in ProductPayload form, the report). `known`: name_key()s
    of products other sources already provide (they win: measured shade sets).

    Products come out in the file's order of their first record; product ids are the slug of
    brand and name ("mk-" prefixed), so they stay the same as long as the file does."""
    report = CleaningReport(source_products=len(records))
    known_keys = set(known)
    groups: dict[tuple[str, str], list[tuple[Mapping[str, Any], str, str, str | None, str]]] = {}
    for record in records:
        entries = record.get("product_colors") or []
        report.source_shades += len(entries)
        raw_name = record.get("name") or ""
        name = clean_text(raw_name)
        brand, brand_rule = brand_name(record.get("brand"), name)
        category = map_category(record.get("product_type"), record.get("category"), name)
        if not entries:
            report.note("no_colours", example=f"{brand or '?'} {name}")
            continue
        if brand_rule == "no_brand" or category is None:
            report.note("no_brand", example=name)
            report.note("dropped_with_product", len(entries))
            continue
        key = name_key(brand, name)
        groups.setdefault(key, []).append((record, name, brand, brand_rule, category))

    out: list[dict[str, Any]] = []
    taken_ids: set[str] = set()
    for key, group in groups.items():
        # The lower source id (the record the API created first) supplies the fields.
        group.sort(key=lambda g: int(g[0].get("id") or 0))
        record, name, brand, brand_rule, category = group[0]
        raw_name = record.get("name") or ""
        if name != raw_name:
            report.note("html_cleaned", example=repr(raw_name[:40]))
        if brand_rule:
            report.note(brand_rule, example=f"{record.get('brand')!r} -> {brand}")
        if category != _TYPES.get(record.get("product_type") or ""):
            report.note("category_from_fields", example=f"{name} -> {category}")
        currency, minor, price_rules = price(record)
        for rule in price_rules:
            report.note(rule)
        shades: list[_Shade] = []
        for i, (r, *_rest) in enumerate(group):
            if i:
                report.note("duplicate_merged", example=f"{brand} {name}")
            shades += _shades_of(r, category, name, report)
        shades = _dedupe_hexes(shades, report, f"{brand} {name}")
        if key in known_keys:
            report.note("duplicate_of_other_source", example=f"{brand} {name}")
            report.note("dropped_with_product", len(shades))
            continue
        if not shades:
            report.note("no_shades_left", example=f"{brand} {name}")
            continue
        product = _Product(
            source_id=int(record.get("id") or 0), brand=brand, name=name, category=category,
            field_=(record.get("category") or "").strip().lower(),
            tags=[clean_text(t) for t in record.get("tag_list") or []], currency=currency,
            price_minor=minor, shades=shades,
        )  # fmt: skip
        base = PRODUCT_ID_PREFIX + "-".join(key)[:110].strip("-")  # brand, name once
        out.append(_payload(product, _unique(base, taken_ids)))
    report.kept_products = len(out)
    report.kept_shades = sum(len(p["shades"]) for p in out)
    return out, report


def makeup_api_products(
    json_path: Path, *, known: Iterable[tuple[str, str]] = ()
) -> tuple[list[dict[str, Any]], CleaningReport]:
    """The cleaned products of makeup.json and the report of what cleaning them took."""
    return clean(load(json_path), known=known)
