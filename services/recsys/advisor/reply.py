"""The advisor's answer in the shopper's language: what it understood, the top picks and why,
and what to say next; a polite "can't help" for what is not makeup, and what to relax when
nothing fits. Pure string building from Slots and product summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.recsys.advisor.lexicon import CNY_PER_USD
from services.recsys.advisor.slots import Slots

MAX_PICKS_NAMED = 3  # one product: the top three; a look: one line per category, up to
MAX_LOOK_PICKS_NAMED = 8


@dataclass(frozen=True)
class ProductSummary:
    brand: str
    name: str
    shade_name: str
    category: str
    hex: str
    price_minor: int | None  # USD cents; None when unknown
    delta_e_to_target: float | None  # CIEDE2000 to the colour asked for
    reason: str  # in the shopper's language


CATEGORY_NAMES = {
    "lipstick": ("lipstick", "口红"), "lip_liner": ("lip liner", "唇线笔"),
    "blush": ("blush", "腮红"), "bronzer": ("bronzer", "古铜粉"), "contour": ("contour", "修容"),
    "highlighter": ("highlighter", "高光"), "foundation": ("foundation", "粉底"),
    "concealer": ("concealer", "遮瑕"), "eyeshadow": ("eyeshadow", "眼影"),
    "eyeliner": ("eyeliner", "眼线"), "mascara": ("mascara", "睫毛膏"), "brow": ("brow", "眉笔"),
    "nail_polish": ("nail polish", "指甲油"),
}  # fmt: skip
FINISH_NAMES = {
    "matte": ("matte", "哑光"), "satin": ("satin", "缎光"), "gloss": ("glossy", "水光"),
    "shimmer": ("shimmer", "珠光"), "metallic": ("metallic", "金属光"),
}  # fmt: skip
OCCASION_NAMES = {
    "date": ("a date", "约会"), "office": ("the office", "通勤上班"), "party": ("a party", "派对"),
    "wedding": ("a wedding", "婚礼"), "interview": ("an interview", "面试"),
    "daily": ("every day", "日常"), "holiday": ("the holidays", "节日"),
    "natural": ("a no-makeup look", "素颜感妆容"),
}  # fmt: skip
FAMILY_NAMES_ZH = {
    "red": "红色", "pink": "粉色", "nude": "裸色", "coral": "珊瑚色", "berry": "莓果色",
    "plum": "梅子色", "brown": "棕色", "orange": "橘色", "black": "黑色", "white": "白色",
    "grey": "灰色", "taupe": "灰棕色", "gold": "金色", "green": "绿色", "blue": "蓝色",
    "purple": "紫色", "fair": "白皙色", "light": "浅色", "medium": "中等色", "tan": "小麦色",
    "deep": "深色",
}  # fmt: skip
INTENSITY_NAMES = {"natural": ("natural", "自然"), "medium": ("medium", "适中"),
                   "bold": ("bold", "浓郁显色")}  # fmt: skip
UNDERTONE_NAMES = {"warm": ("warm", "暖"), "cool": ("cool", "冷"), "neutral": ("neutral", "中性")}
ADJUSTMENT_NAMES = {
    "lighter": ("lighter", "浅一点"), "darker": ("darker", "深一点"),
    "warmer": ("warmer", "暖一点"), "cooler": ("cooler", "冷一点"),
    "brighter": ("brighter", "亮一点"), "softer": ("softer", "柔和一点"),
    "cheaper": ("cheaper", "便宜一点"), "another": ("other picks", "换一批"),
}  # fmt: skip


def _name(table: dict[str, tuple[str, str]], key: str, zh: bool) -> str:
    pair = table.get(key)
    return (pair[1] if zh else pair[0]) if pair else key


def _money(minor: int, zh: bool) -> str:
    """A catalog price (USD cents): "$42", in Chinese "$42（约¥302）"."""
    usd = f"${minor / 100:.2f}".replace(".00", "")
    return f"{usd}（约¥{round(minor / 100 * CNY_PER_USD)}）" if zh else usd


def _cap(slots: Slots, zh: bool) -> str:
    """The shopper's price cap as she said it: "¥150" when she wrote yuan, else dollars."""
    minor = slots.max_price_minor or 0
    if slots.price_currency_said == "CNY":
        return f"¥{round(minor / 100 * CNY_PER_USD)}"
    return f"${minor / 100:.2f}".replace(".00", "")


_EXCLUDED_EN = {"shimmer": "shimmery", "gloss": "glossy", "metallic": "metallic",
                "matte": "matte", "satin": "satin"}  # fmt: skip


def _understood(slots: Slots, zh: bool) -> str:
    """The request in words: "matte brick red lipstick, under $20, for a date"."""
    cats = [_name(CATEGORY_NAMES, c, zh) for c in slots.categories]
    colour = slots.colour_name or (
        FAMILY_NAMES_ZH.get(slots.colour_family, slots.colour_family) if zh else slots.colour_family
    )
    finish = _name(FINISH_NAMES, slots.finish, zh) if slots.finish else ""
    look = bool(slots.occasion) and len(cats) > 2
    if zh:
        lead = []
        if slots.occasion:
            lead.append(f"适合{_name(OCCASION_NAMES, slots.occasion, True)}")
        if slots.intensity:
            lead.append(f"妆感{_name(INTENSITY_NAMES, slots.intensity, True)}")
        noun = "妆容（" + "、".join(cats) + "）" if look else ("、".join(cats) or "彩妆")
        head = ("、".join(lead) + "的" if lead else "") + colour + finish + noun
        extras = []
        if slots.excluded_finishes:
            extras.append(
                "不要" + "、".join(_name(FINISH_NAMES, f, True) for f in slots.excluded_finishes)
            )
        if slots.max_price_minor is not None:
            extras.append(f"{_cap(slots, True)}以内")
        if slots.brands:
            extras.append("品牌：" + "、".join(slots.brands))
        if slots.excluded_brands:
            extras.append("不要" + "、".join(slots.excluded_brands))
        if slots.undertone:
            extras.append(f"{_name(UNDERTONE_NAMES, slots.undertone, True)}调肤色")
        if slots.adjustments:
            extras.append("、".join(_name(ADJUSTMENT_NAMES, a, True) for a in slots.adjustments))
        return head + ("，" + "，".join(extras) if extras else "")
    words = []
    if slots.intensity:
        words.append(_name(INTENSITY_NAMES, slots.intensity, False))
    if look:
        head = " ".join(words + ["look"]) + " (" + ", ".join(cats) + ")"
    else:
        words += [w for w in (finish, colour) if w]
        head = " ".join(words + [" and ".join(cats) if cats else "makeup"])
    extras = []
    if slots.occasion:
        extras.append(f"for {_name(OCCASION_NAMES, slots.occasion, False)}")
    if slots.excluded_finishes:
        extras.append(
            "nothing " + " or ".join(_EXCLUDED_EN.get(f, f) for f in slots.excluded_finishes)
        )
    if slots.max_price_minor is not None:
        extras.append(f"under {_cap(slots, False)}")
    if slots.brands:
        extras.append("from " + " or ".join(slots.brands))
    if slots.excluded_brands:
        extras.append("not " + " or ".join(slots.excluded_brands))
    if slots.undertone:
        extras.append(f"for a {_name(UNDERTONE_NAMES, slots.undertone, False)} undertone")
    if slots.adjustments:
        extras.append(" and ".join(_name(ADJUSTMENT_NAMES, a, False) for a in slots.adjustments))
    return head + (", " + ", ".join(extras) if extras else "")


def _pick_line(i: int, p: ProductSummary, slots: Slots, zh: bool, with_category: bool) -> str:
    shade = f" {p.shade_name}" if p.shade_name else ""
    price = (
        ""
        if not p.price_minor
        else (f"，{_money(p.price_minor, True)}" if zh else f", {_money(p.price_minor, False)}")
    )
    why = [p.reason] if p.reason else []
    if p.delta_e_to_target is not None and (slots.colour_name or slots.colour_hex):
        target = slots.colour_name or slots.colour_hex
        why.append(
            f"与「{target}」色差 ΔE {p.delta_e_to_target:.1f}"
            if zh
            else f"ΔE {p.delta_e_to_target:.1f} from {target}"
        )
    cat = f"{_name(CATEGORY_NAMES, p.category, zh)}{'：' if zh else ': '}" if with_category else ""
    if zh:
        return f"{i}. {cat}{p.brand} {p.name}{shade}{price}" + (
            f"：{'；'.join(why)}" if why else ""
        )
    return f"{i}. {cat}{p.brand} {p.name}{shade}{price}" + (f": {'; '.join(why)}" if why else "")


def _next_step(slots: Slots, zh: bool) -> str:
    if zh:
        tips = ["浅一点", "便宜一点"]
        if slots.finish != "matte":
            tips.insert(1, "换个哑光的")
        return "想调整的话，可以说" + "、".join(f"「{t}」" for t in tips) + "。"
    tips = ["a bit lighter", "cheaper"]
    if slots.finish != "matte":
        tips.insert(1, "something matte")
    return "Want to change it? Try " + ", ".join(f"'{t}'" for t in tips) + "."


def _too_tight(slots: Slots, zh: bool) -> str:
    """The constraint most likely to have emptied the shelf, and how to relax it."""
    if slots.brands:
        return (
            f"可能是品牌（{'、'.join(slots.brands)}）限制太多，换个品牌或者不限品牌试试？"
            if zh
            else f"The brand ({' or '.join(slots.brands)}) may be too narrow: "
            "try another brand, or any brand?"
        )
    if slots.max_price_minor is not None:
        return (
            f"{_cap(slots, True)}以内的选择太少，可以把预算放宽一些吗？"
            if zh
            else f"Nothing fits under {_cap(slots, False)}: could you raise the budget a little?"
        )
    if slots.finish:
        return (
            f"{_name(FINISH_NAMES, slots.finish, True)}的选择不多，换个质地试试？"
            if zh
            else f"Few {_name(FINISH_NAMES, slots.finish, False)} shades match: "
            "would another finish do?"
        )
    if slots.colour_name or slots.colour_family:
        colour = slots.colour_name or slots.colour_family
        return (
            f"「{colour}」附近的颜色太少，换个相近的颜色试试？"
            if zh
            else f"Few shades are close to {colour}: would a nearby colour do?"
        )
    if slots.excluded_finishes or slots.intensity:
        return (
            "条件有点多，去掉一两个试试？"
            if zh
            else "That's a lot of conditions: could we drop one?"
        )
    return "换个说法或品类试试？" if zh else "Could you say it another way, or try another product?"


def reply(
    slots: Slots, products: Sequence[ProductSummary], has_face: bool, skin: str | None
) -> str:
    """The answer to the shopper, in slots.language ("zh" or "en")."""
    zh = slots.language == "zh"
    if slots.out_of_scope:
        return ("抱歉，这个问题我帮不上忙：我是美妆顾问，只能帮你挑选和试用彩妆。"
                "可以问我比如「适合通勤的裸色口红」。" if zh else
                "Sorry, I can't help with that: I'm a beauty advisor, so I can only help you find "
                "and try on makeup. You could ask me, for example, for 'a nude lipstick for the "
                "office'.")  # fmt: skip
    if slots.greeting_only:
        return ("你好！我是你的美妆顾问。告诉我你想找什么，比如「想要一支适合约会的豆沙色口红」"
                "或「200元以内的哑光唇釉」。" if zh else
                "Hi! I'm your beauty advisor. Tell me what you're looking for, for example "
                "'a matte brick red lipstick under $20' or 'a natural office look'.")  # fmt: skip
    understood = _understood(slots, zh)
    if not products:
        return (f"我理解你想要：{understood}。抱歉，目前没有完全符合的商品。{_too_tight(slots, zh)}"
                if zh else
                f"You're looking for: {understood}. Sorry, nothing in the catalog meets all of "
                f"that. {_too_tight(slots, zh)}")  # fmt: skip
    lines = [f"为你找到：{understood}。" if zh else f"Here's what I found for: {understood}."]
    look = len(slots.categories) > 1
    named = min(max(len(slots.categories), MAX_PICKS_NAMED), MAX_LOOK_PICKS_NAMED)
    for i, p in enumerate(products[: named if look else MAX_PICKS_NAMED], 1):
        lines.append(_pick_line(i, p, slots, zh, with_category=look))
    if has_face and skin:
        tone = _name(UNDERTONE_NAMES, skin, zh)
        lines.append(
            f"这些都按你的{tone}调肤色挑选，已在你的照片上试好。"
            if zh
            else f"All chosen to suit your {tone} undertone, and tried on your photo."
        )
    elif has_face:
        lines.append("已在你的照片上试好。" if zh else "They're tried on your photo.")
    lines.append(_next_step(slots, zh))
    return "\n".join(lines)
