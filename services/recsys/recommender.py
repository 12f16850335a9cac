"""Recommend: products (each with its best shade for this shopper), scores and reasons.

Three signals, blended per product:
* behaviour: similarity to what this shopper tried, carted, bought or rated well (the trained
  `BehaviourModel`; nothing for a new shopper);
* skin: how well the product's best shade suits the face (`skin_affinity`; shade matching by
  CIEDE2000 for foundation and concealer) - what carries a cold start;
* popularity among this tenant's shoppers.
The reason shown is the signal that contributed most.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np
from numpy.typing import NDArray

from services.common.payloads import Category, ProductPayload, RecommendationPayload
from services.recsys.behaviour_model import TenantBehaviour
from services.recsys.event_store import EventStore, StoredEvent
from services.recsys.model_registry import ModelRegistry
from services.recsys.skin_affinity import BASE_CATEGORIES, SkinProfile, affinity
from services.render.catalog import CatalogStore, ShadeTable

__all__ = ["Recommender", "ALL_CATEGORIES"]

# Without categories asked for, what a face can try on: nail polish only when asked for by name.
ALL_CATEGORIES: tuple[str, ...] = tuple(c for c in get_args(Category) if c != "nail_polish")
# Blend weights (behaviour, skin, popularity) with and without a history.
_WITH_HISTORY = (0.5, 0.35, 0.15)
_COLD_START = (0.0, 0.8, 0.2)
_VERBS = {"try_on": "tried", "add_to_cart": "added to your cart", "purchase": "bought",
          "rating": "rated highly"}  # fmt: skip
_PRODUCT_CACHE_SIZE = 2048


@dataclass(frozen=True)
class _Candidate:
    category: str
    product_id: str
    shade_id: str
    score: float
    parts: tuple[float, float, float]  # weighted behaviour, skin, popularity
    skin_reason: str
    delta_e: float


class Recommender:
    def __init__(self, catalog: CatalogStore, events: EventStore, models: ModelRegistry) -> None:
        self.catalog = catalog
        self.events = events
        self.models = models
        self._groups: dict[int, tuple[ShadeTable, NDArray[np.int64], list[str]]] = {}
        self._rows: dict[
            tuple[int, int], tuple[TenantBehaviour, ShadeTable, NDArray[np.int64]]
        ] = {}
        self._products: OrderedDict[tuple[str, str], ProductPayload] = OrderedDict()
        self._lock = threading.Lock()

    def recommend(
        self,
        tenant: str,
        *,
        user_id: str,
        skin: SkinProfile,
        categories: Sequence[str],
        k: int,
    ) -> tuple[list[RecommendationPayload], str]:
        model = self.models.current()
        behaviour = model.for_tenant(tenant)
        history = self.events.history(tenant, user_id) if user_id else []
        cf = _normalised(behaviour.scores(history)) if behaviour and history else None
        weights = _WITH_HISTORY if cf is not None and cf.any() else _COLD_START
        bought = {e.product_id for e in history if e.type == "purchase"}

        candidates: list[_Candidate] = []
        for category in categories or ALL_CATEGORIES:
            candidates.extend(
                self._score_category(tenant, category, skin, behaviour, cf, weights, bought, k)
            )
        candidates.sort(key=lambda c: (-c.score, c.product_id))
        top = _diverse(candidates, k, cap=k if categories else max(2, -(-k // 3)))
        out = [
            RecommendationPayload(
                product=self._product(tenant, c.product_id),
                shade_id=c.shade_id,
                score=round(c.score, 6),
                reason=self._reason(tenant, c, behaviour, history),
                delta_e=round(c.delta_e, 3),
            )
            for c in top
        ]
        return out, model.version

    # -- scoring -----------------------------------------------------------------------------
    def _score_category(
        self,
        tenant: str,
        category: str,
        skin: SkinProfile,
        behaviour: TenantBehaviour | None,
        cf: NDArray[np.float32] | None,
        weights: tuple[float, float, float],
        bought: set[str],
        limit: int,
    ) -> list[_Candidate]:
        table, group, product_ids = self._grouped(tenant, category)
        if not len(table):
            return []
        skin_score, delta_e, reasons = affinity(skin, category, table.lab)
        # Best shade per product: sort by (product, -score), keep each product's first row.
        order = np.lexsort((-skin_score, group))
        first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
        n = len(product_ids)
        behaviour_part = np.zeros(n)
        popularity = np.zeros(n)
        if behaviour is not None:
            idx = self._model_rows(behaviour, table, product_ids)
            known = idx >= 0
            popularity[known] = behaviour.popularity[idx[known]]
            if cf is not None:
                behaviour_part[known] = cf[idx[known]]
        w_cf, w_skin, w_pop = weights
        if category in BASE_CATEGORIES and skin.lab is not None and w_cf == 0:
            w_skin, w_pop = 1.0, 0.0  # a new shopper's base product is a pure shade match
        parts = np.stack([w_cf * behaviour_part[group[first]], w_skin * skin_score[first],
                          w_pop * popularity[group[first]]], axis=1)  # fmt: skip
        total = parts.sum(axis=1)
        # Only the best `limit` of this category can be shown: build just those.
        order = np.argsort(-total, kind="stable")
        candidates = []
        for j in order:
            pid = product_ids[int(group[first[j]])]
            if pid in bought:
                continue
            row = int(first[j])
            candidates.append(
                _Candidate(
                    category,
                    pid,
                    table.shade_ids[row],
                    float(total[j]),
                    tuple(float(x) for x in parts[j]),
                    reasons(row),
                    float(delta_e[row]),
                )  # fmt: skip
            )
            if len(candidates) == limit:
                break
        return candidates

    def _model_rows(
        self, behaviour: TenantBehaviour, table: ShadeTable, product_ids: list[str]
    ) -> NDArray[np.int64]:
        """Each product's row in the behaviour model (-1: unknown), cached per model + table."""
        key = (id(behaviour), id(table))
        hit = self._rows.get(key)
        if hit is not None and hit[0] is behaviour and hit[1] is table:
            return hit[2]
        index = behaviour.index
        rows = np.array([index.get(p, -1) for p in product_ids], dtype=np.int64)
        with self._lock:
            if len(self._rows) > 256:
                self._rows.clear()
            self._rows[key] = (behaviour, table, rows)
        return rows

    def _grouped(
        self, tenant: str, category: str
    ) -> tuple[ShadeTable, NDArray[np.int64], list[str]]:
        """The category's shades with a product index per shade (cached per table object)."""
        table = self.catalog.all_shades(category, tenant=tenant)
        hit = self._groups.get(id(table))
        if hit is not None and hit[0] is table:
            return hit
        product_ids, group = np.unique(np.asarray(table.product_ids, dtype=object),
                                       return_inverse=True)  # fmt: skip
        entry = (table, group.astype(np.int64), [str(p) for p in product_ids])
        with self._lock:
            if len(self._groups) > 256:
                self._groups.clear()
            self._groups[id(table)] = entry
        return entry

    # -- presentation ------------------------------------------------------------------------
    def _reason(
        self,
        tenant: str,
        c: _Candidate,
        behaviour: TenantBehaviour | None,
        history: Sequence[StoredEvent],
    ) -> str:
        strongest = int(np.argmax(c.parts))
        if strongest == 0 and behaviour is not None and c.parts[0] > 0:
            source = _most_similar(behaviour, history, c.product_id)
            if source is not None:
                product = self._product(tenant, source.product_id)
                return f"like the {product.brand} {product.name} you {_VERBS[source.type]}"
        if strongest == 2 and c.parts[2] > 0:
            return "popular with shoppers here"
        if c.category in BASE_CATEGORIES or c.parts[1] > 0:
            return c.skin_reason
        return "popular pick"

    def _product(self, tenant: str, product_id: str) -> ProductPayload:
        key = (tenant, product_id)
        with self._lock:
            hit = self._products.get(key)
            if hit is not None:
                self._products.move_to_end(key)
                return hit
        product = self.catalog.get_product(tenant, product_id)
        with self._lock:
            self._products[key] = product
            if len(self._products) > _PRODUCT_CACHE_SIZE:
                self._products.popitem(last=False)
        return product


def _diverse(ranked: list[_Candidate], k: int, cap: int) -> list[_Candidate]:
    """The best k with at most `cap` per category (a whole-face answer, not ten foundations);
    the cap relaxes if the categories asked for cannot fill k otherwise."""
    picked: list[_Candidate] = []
    per_category: dict[str, int] = {}
    for c in ranked:
        if per_category.get(c.category, 0) < cap:
            picked.append(c)
            per_category[c.category] = per_category.get(c.category, 0) + 1
            if len(picked) == k:
                return picked
    chosen = set(map(id, picked))
    picked += [c for c in ranked if id(c) not in chosen][: k - len(picked)]
    picked.sort(key=lambda c: (-c.score, c.product_id))
    return picked


def _normalised(scores: NDArray[np.float32]) -> NDArray[np.float32]:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


def _most_similar(
    behaviour: TenantBehaviour, history: Sequence[StoredEvent], product_id: str
) -> StoredEvent | None:
    """The history event whose product points most strongly at `product_id`."""
    best, best_sim = None, 0.0
    for event in history:
        value = behaviour.similarity(event.product_id, product_id)
        if value > best_sim:
            best, best_sim = event, value
    return best
