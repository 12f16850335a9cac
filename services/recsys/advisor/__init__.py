"""The beauty advisor: a shopper's message in Chinese or English -> what was understood
(Slots), products that satisfy it and suit the face, and a reply in the shopper's language.
Offline: a lexicon and grammar (jieba for Chinese words), no hosted model.

    advisor = Advisor(catalog_store)
    advice = advisor.advise(tenant, "想要一支适合约会的豆沙色口红，不要太亮", history=(), face=None)
    advice.slots, advice.picks, advice.reply

Modules: slots (the understood request), colour_words + lexicon (vocabulary), parser (one
message), dialogue (follow-ups over the conversation), catalog_index + retrieval (products),
reply (the answer's words)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.recsys.advisor import retrieval
from services.recsys.advisor.catalog_index import CatalogIndex
from services.recsys.advisor.dialogue import understand
from services.recsys.advisor.money import usd_minor
from services.recsys.advisor.parser import parse, warm_up
from services.recsys.advisor.reply import ProductSummary, reply
from services.recsys.advisor.retrieval import Pick
from services.recsys.advisor.slots import CATEGORIES, Slots
from services.recsys.skin_affinity import SkinProfile
from services.render.catalog import CatalogStore

__all__ = ["Advice", "Advisor", "Pick", "Slots"]

_BRANDS_TTL_S = 300.0


@dataclass(frozen=True)
class Advice:
    slots: Slots
    picks: list[Pick]
    reply: str


class Advisor:
    """One per worker process (its catalog arrays are cached a minute per tenant)."""

    def __init__(self, store: CatalogStore) -> None:
        self.catalog = CatalogIndex(store)
        self._brands: dict[str, tuple[float, list[str]]] = {}
        warm_up()  # jieba's dictionary and the phrase index: ~1 s, once per process, not per ask

    def brands(self, tenant: str) -> list[str]:
        hit = self._brands.get(tenant)
        if hit is None or hit[0] < time.monotonic():
            hit = (time.monotonic() + _BRANDS_TTL_S, self.catalog.brands(tenant, CATEGORIES))
            self._brands[tenant] = hit
        return hit[1]

    def advise(
        self,
        tenant: str,
        message: str,
        history: Sequence[tuple[str, str]] = (),
        face: SkinProfile | None = None,
        k: int = 6,
    ) -> Advice:
        brands = self.brands(tenant)
        slots = understand(message, history, brands)
        if "cheaper" in slots.adjustments and parse(message, brands).slots.max_price_minor:
            # "便宜点的眼影，150元以内": the stated budget is what "cheap" means here.
            slots = replace(slots, adjustments=tuple(a for a in slots.adjustments
                                                     if a != "cheaper"))  # fmt: skip
        picks = (
            [] if slots.out_of_scope or slots.greeting_only
            else retrieval.pick(self.catalog, tenant, slots, face, k)
        )  # fmt: skip
        summaries = [summary(p) for p in picks]
        skin = face.undertone if face is not None and face.known else None
        return Advice(slots, picks, reply(slots, summaries, face is not None, skin))

    def search(
        self,
        tenant: str,
        text: str,
        *,
        colour: str = "",
        category: str = "",
        max_delta_e: float = retrieval.MAX_DELTA_E,
        page_size: int = 20,
    ) -> tuple[Slots, list[Pick]]:
        """Text and colour search: the text read like a shopper's message, `colour` (a hex or
        a colour name) and `category` overriding what the text says."""
        brands = self.brands(tenant)
        slots = parse(text, brands).slots if text.strip() else Slots()
        if colour:
            said = parse(colour, brands).slots
            if not said.colour_hex:
                return replace(slots, out_of_scope=False), []
            slots = replace(slots, colour_hex=said.colour_hex, colour_name=colour,
                            colour_family="")  # fmt: skip
        if category:
            slots = replace(slots, categories=(category,))
        skin = retrieval.skin_profile(slots, None)
        categories = retrieval.categories_for(slots, skin) or (
            CATEGORIES if slots.free_words else ()
        )  # fmt: skip
        picks: list[Pick] = []
        for name in categories:
            picks.extend(retrieval.pick_category(
                self.catalog.category(tenant, name), slots, skin, page_size,
                max_delta_e=max_delta_e, name_words=tuple(w.lower() for w in slots.free_words),
            ))  # fmt: skip
        picks.sort(key=lambda p: (p.delta_e_target or 0.0, -p.score))
        return slots, picks[:page_size]


def summary(p: Pick) -> ProductSummary:
    return ProductSummary(
        brand=p.product.brand, name=p.product.name, shade_name=p.shade_name,
        category=p.product.category, hex=p.hex,
        # In US cents, as every price the advisor compares; ΔE to the asked colour is already
        # in the reason.
        price_minor=usd_minor(p.product.price_minor, p.product.price_currency),
        delta_e_to_target=None, reason=p.reason,
    )  # fmt: skip
