"""What the advisor understood of a shopper's request: the one typed shape the parser fills,
follow-ups refine, retrieval obeys and the reply explains (the API's AdviceSlots mirrors it)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Our product categories (services.render.catalog.validation.CATEGORIES), as the parser names them.
CATEGORIES = (
    "lipstick", "lip_liner", "blush", "bronzer", "contour", "highlighter", "foundation",
    "concealer", "eyeshadow", "eyeliner", "mascara", "brow", "nail_polish",
)  # fmt: skip
FINISHES = ("matte", "satin", "gloss", "shimmer", "metallic")
INTENSITIES = ("natural", "medium", "bold")
# Relative moves a follow-up asks for ("a bit lighter", "再便宜点"): applied to the previous
# request's colour and price by retrieval.
# "another": "something else" / "换一个", other products for the same request.
ADJUSTMENTS = ("lighter", "darker", "warmer", "cooler", "brighter", "softer", "cheaper", "another")


@dataclass(frozen=True)
class Slots:
    language: str = "en"  # "en" | "zh": the reply's language (the message's, mixed -> majority)
    categories: tuple[str, ...] = ()  # wanted categories; an occasion look fills several
    colour_hex: str = ""  # "#rrggbb": the target colour (from a colour word or a hex)
    colour_name: str = ""  # the words it came from, as written ("豆沙", "brick red")
    colour_family: str = ""  # one of services.common.colour_families' names, when said
    finish: str = ""  # wanted finish
    excluded_finishes: tuple[str, ...] = ()  # "nothing shimmery", "不要珠光"
    occasion: str = ""  # "date" | "office" | "party" | "wedding" | "daily" | "interview" | ...
    intensity: str = ""  # "natural" | "medium" | "bold" ("不要太亮" -> natural)
    max_price_minor: int | None = None  # in USD cents (¥ converted at a documented rate)
    price_currency_said: str = ""  # "USD" | "CNY": what the shopper wrote
    brands: tuple[str, ...] = ()  # wanted brands (catalog spelling)
    excluded_brands: tuple[str, ...] = ()
    adjustments: tuple[str, ...] = ()  # from ADJUSTMENTS, this turn only
    skin_words: tuple[str, ...] = ()  # "olive skin", "黄皮", "fair": a skin hint without a face
    undertone: str = ""  # "warm" | "cool" | "neutral" when the shopper says so
    out_of_scope: bool = False  # not a makeup request: a polite "can't help", no products
    greeting_only: bool = False  # "hi", "你好": answer, no products
    free_words: tuple[str, ...] = ()  # leftover content words (for name search)

    def merged_into(self, previous: Slots) -> Slots:
        """This follow-up applied to the previous request: what it says replaces, what it
        does not say is kept (categories, colour, price...), adjustments are this turn's."""
        keep = {}
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(previous, name)
            keep[name] = mine if mine not in ("", (), None, False) else theirs
        keep["adjustments"] = self.adjustments
        keep["out_of_scope"] = self.out_of_scope
        keep["greeting_only"] = self.greeting_only
        keep["language"] = self.language
        return replace(previous, **keep)


@dataclass(frozen=True)
class ParseResult:
    slots: Slots
    # True when the message only refines the previous one ("cheaper", "换个哑光的").
    is_follow_up: bool = False
    tokens: tuple[str, ...] = field(default=())
    # "换个牌子" / "another brand": the previous request's brands become excluded ones.
    other_brand: bool = False
