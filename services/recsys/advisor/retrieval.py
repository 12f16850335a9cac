"""From what the shopper asked (Slots) to products: hard constraints first (category, brands,
price, finish, colour family, how bright), then a score mixing closeness to the asked colour
(CIEDE2000) and how the shade suits the shopper's skin; one shade per product, best first."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from services.common.color import ciede2000, hex_to_lab
from services.common.payloads import ProductPayload
from services.recsys.advisor.catalog_index import CatalogIndex, CategoryIndex
from services.recsys.advisor.slots import Slots
from services.recsys.skin_affinity import SkinProfile, affinity

# A colour asked for is met within this CIEDE2000 (beyond, the shade reads as another colour).
MAX_DELTA_E = 20.0
# "Natural" / "not too bright" colour: chroma at most this; "bold": at least that.
NATURAL_MAX_CHROMA = 45.0
BOLD_MIN_CHROMA = 35.0
COLOUR_CATEGORIES = frozenset({"lipstick", "lip_liner", "blush", "eyeshadow", "nail_polish"})
# A follow-up's relative moves, in CIELAB.
LIGHTER_DL = 8.0
WARMER_DB = 6.0
CHROMA_STEP = 1.25
CHEAPER = 0.75  # "cheaper": the cap drops to this share of the last cap (or of the median)
# Skin words without a face: the Monk bucket they suggest, and the Monk Skin Tone scale's own
# reference colours (Google's MST, 1..10), which stand in for a measured skin colour.
SKIN_MONK = {"fair": 2, "light": 3, "medium": 5, "olive": 5, "tan": 6, "deep": 8, "dark": 8}
MONK_HEX = ("#f6ede4", "#f3e7db", "#f7ead0", "#eadaba", "#d7bd96", "#a07e56", "#825c43",
            "#604134", "#3a312a", "#292420")  # fmt: skip
# Lashes, liner and brows: "natural" means black, brown or grey (low chroma), not a colour.
NATURAL_DEFINITION_MAX_CHROMA = 25.0
DEFINITION_CATEGORIES = frozenset({"mascara", "eyeliner", "brow"})
# Chinese for the skin-affinity reasons (skin_affinity.py writes them in English).
_REASON_ZH = {
    "suits warm undertones": "适合暖调肤色",
    "suits cool undertones": "适合冷调肤色",
    "suits neutral undertones": "适合中性肤色",
    "flatters fair skin": "衬白皙肤色",
    "flatters medium skin": "衬自然肤色",
    "flatters deep skin": "衬深肤色",
    "popular pick": "人气之选",
    "matches your skin": "贴合你的肤色",
    "one shade lighter than your skin: brightens": "比肤色浅一度，提亮",
    "a few shades deeper than your skin: warms": "比肤色深几度，增添暖意",
    "a few shades deeper than your skin: sculpts": "比肤色深几度，塑造轮廓",
}
FINISH_ZH = {"matte": "哑光", "satin": "缎光", "gloss": "水光", "shimmer": "珠光",
             "metallic": "金属光"}  # fmt: skip


@dataclass(frozen=True)
class Pick:
    product: ProductPayload
    shade_id: str
    shade_name: str
    hex: str
    finish: str
    score: float
    delta_e_target: float | None  # to the colour asked for
    delta_e_skin: float  # base products against the skin; 0 otherwise
    reason: str  # in the shopper's language


def target_lab(slots: Slots) -> np.ndarray | None:
    """The colour asked for, moved by this turn's adjustments ("a bit lighter")."""
    if not slots.colour_hex:
        return None
    lab = np.asarray(hex_to_lab(slots.colour_hex), dtype=np.float64).copy()
    for move in slots.adjustments:
        if move == "lighter":
            lab[0] = min(lab[0] + LIGHTER_DL, 97.0)
        elif move == "darker":
            lab[0] = max(lab[0] - LIGHTER_DL, 5.0)
        elif move == "warmer":
            lab[2] += WARMER_DB
        elif move == "cooler":
            lab[2] -= WARMER_DB
        elif move in ("brighter", "softer"):
            lab[1:] *= CHROMA_STEP if move == "brighter" else 1 / CHROMA_STEP
    return lab


def price_cap(slots: Slots, index: CategoryIndex) -> int | None:
    cap = slots.max_price_minor
    if "cheaper" in slots.adjustments:
        priced = index.price_minor[index.price_minor > 0]
        base = cap if cap else (int(np.median(priced)) if len(priced) else None)
        cap = int(base * CHEAPER) if base else cap
    return cap


def skin_profile(slots: Slots, face: SkinProfile | None) -> SkinProfile:
    """The measured skin when there is a face; else what the shopper said of it."""
    if face is not None and face.known:
        return face
    monk = next((SKIN_MONK[w] for w in slots.skin_words if w in SKIN_MONK), None)
    undertone = slots.undertone or ("neutral" if "olive" in slots.skin_words else None)
    lab = None if monk is None else tuple(float(x) for x in hex_to_lab(MONK_HEX[monk - 1]))
    return SkinProfile(lab=lab, monk_bucket=monk, undertone=undertone or None)


def categories_for(slots: Slots, skin: SkinProfile) -> tuple[str, ...]:
    if slots.categories:
        return slots.categories
    if slots.colour_hex or slots.colour_family or slots.finish:
        return ("lipstick",)  # "a brick red one": lips, the usual meaning
    return ()


def _mask(slots: Slots, index: CategoryIndex, cap: int | None) -> np.ndarray:
    n = len(index)
    keep = np.ones(n, dtype=bool)
    if slots.brands:
        wanted = {b.lower() for b in slots.brands}
        keep &= np.array([b in wanted for b in index.brand_lower], dtype=bool)
    if slots.excluded_brands:
        banned = {b.lower() for b in slots.excluded_brands}
        keep &= np.array([b not in banned for b in index.brand_lower], dtype=bool)
    if cap is not None:
        keep &= (index.price_minor >= 0) & (index.price_minor <= cap)
    if slots.finish:
        keep &= np.array([f == slots.finish for f in index.finishes], dtype=bool)
    if slots.excluded_finishes:
        banned = set(slots.excluded_finishes)
        if "shimmer" in banned:
            banned.add("metallic")  # "nothing shimmery": no sparkle of either kind
        keep &= np.array([f not in banned for f in index.finishes], dtype=bool)
    if slots.colour_family and not slots.colour_hex:
        keep &= np.array([f == slots.colour_family for f in index.families], dtype=bool)
    if slots.intensity in ("natural", "bold") and index.category in COLOUR_CATEGORIES and n:
        chroma = np.hypot(index.lab[:, 1], index.lab[:, 2])
        keep &= chroma <= NATURAL_MAX_CHROMA if slots.intensity == "natural" else (
            chroma >= BOLD_MIN_CHROMA
        )  # fmt: skip
    if slots.intensity == "natural" and index.category in DEFINITION_CATEGORIES and n:
        keep &= np.hypot(index.lab[:, 1], index.lab[:, 2]) <= NATURAL_DEFINITION_MAX_CHROMA
    return keep


def pick_category(
    index: CategoryIndex, slots: Slots, skin: SkinProfile, k: int,
    max_delta_e: float = MAX_DELTA_E, name_words: tuple[str, ...] = (),
) -> list[Pick]:  # fmt: skip
    if not len(index):
        return []
    cap = price_cap(slots, index)
    keep = _mask(slots, index, cap)
    target = target_lab(slots)
    de_target = None
    if target is not None:
        de_target = np.asarray(ciede2000(target[None, :], index.lab), dtype=np.float64)
        keep &= de_target <= max_delta_e
        if slots.colour_family:
            # The colour's own family first ("brick red" is red, not the brown next to it),
            # unless no shade of it is near enough.
            same = keep & np.array([f == slots.colour_family for f in index.families], dtype=bool)
            keep = same if same.any() else keep
    if name_words:
        names = [f"{p.brand} {p.name}".lower() for p in index.products]
        named = np.array([all(w in names[j] for w in name_words) for j in index.product_of],
                         dtype=bool)  # fmt: skip
        keep &= named
    if not keep.any():
        return []
    aff, de_skin, skin_reason = affinity(skin, index.category, index.lab)
    if de_target is not None:
        closeness = 1.0 / (1.0 + (de_target / 6.0) ** 2)
        score = 0.7 * closeness + 0.3 * aff if skin.known else closeness
    else:
        score = aff
    score = np.where(keep, score, -np.inf)
    # One shade per product: its best.
    best: dict[int, int] = {}
    for i in np.argsort(-score):
        if not np.isfinite(score[i]):
            break
        best.setdefault(int(index.product_of[i]), int(i))
        if len(best) >= k:
            break
    picks = []
    for product_index, i in best.items():
        picks.append(Pick(
            product=index.products[product_index], shade_id=index.shade_ids[i],
            shade_name=index.shade_names[i], hex=index.hexes[i], finish=index.finishes[i],
            score=float(score[i]),
            delta_e_target=None if de_target is None else float(de_target[i]),
            delta_e_skin=float(de_skin[i]),
            reason=_reason(slots, index, i, de_target, cap, skin_reason(i) if skin.known else ""),
        ))  # fmt: skip
    return picks


def _reason(
    slots: Slots, index: CategoryIndex, i: int, de_target: np.ndarray | None, cap: int | None,
    skin_words: str,
) -> str:  # fmt: skip
    zh = slots.language == "zh"
    parts = []
    if de_target is not None:
        said = slots.colour_name or slots.colour_hex
        parts.append(f"接近{said}（色差 ΔE {de_target[i]:.1f}）" if zh
                     else f"close to {said} (ΔE {de_target[i]:.1f})")  # fmt: skip
    elif slots.colour_family:
        parts.append(f"{slots.colour_family} 色系" if zh else f"a {slots.colour_family} shade")
    if slots.finish or slots.excluded_finishes:
        finish = index.finishes[i]
        parts.append(f"{FINISH_ZH.get(finish, finish)}质地" if zh else f"{finish} finish")
    if cap is not None and index.price_minor[i] >= 0:
        parts.append("在预算以内" if zh else "within your budget")
    if skin_words:
        base, _, tail = skin_words.partition(" (")
        words = _REASON_ZH.get(base, base) + (f"（{tail[:-1]}）" if zh and tail else
                                               f" ({tail}" if tail else "")  # fmt: skip
        parts.append(words if zh else skin_words)
    if not parts:
        parts.append("符合你的要求" if zh else "fits what you asked")
    return ("，" if zh else "; ").join(parts)


def pick(
    catalog: CatalogIndex, tenant: str, slots: Slots, face: SkinProfile | None, k: int
) -> list[Pick]:
    """Products for the request: the top k of one category, or the best of each category of
    a look (an occasion), in the order asked."""
    skin = skin_profile(slots, face)
    categories = categories_for(slots, skin)
    if not categories or slots.out_of_scope:
        return []
    if len(categories) == 1:
        return pick_category(catalog.category(tenant, categories[0]), slots, skin, k)
    picks = []
    for category in categories:
        # A look's colour words ("a date look with a 豆沙 lip") are for its colour products;
        # the base, lashes and brows follow the skin. Exclusions ("nothing shimmery") hold for all.
        own = slots if category in COLOUR_CATEGORIES else replace(
            slots, colour_hex="", colour_name="", colour_family="", finish="",
            intensity=slots.intensity if category in DEFINITION_CATEGORIES else "",
        )
        picks.extend(pick_category(catalog.category(tenant, category), own, skin, 1))
    return picks[: max(k, len(categories))]
