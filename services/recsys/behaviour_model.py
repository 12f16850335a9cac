"""What shoppers' events teach: per tenant, product-to-product similarity and popularity.

Trained from the event log (`event_store`) by the `recsys.train` task. The similarity is the
recency-weighted item-kNN that wins on real beauty purchase sequences (bench_recsys: the next
product follows the last few closely), with the event's strength (purchase > add-to-cart >
try-on) repeating it in the history. Products are keyed by product_id, so a model keeps
working when the catalog changes under it: unknown ids simply score nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from services.recsys.event_store import StoredEvent
from services.recsys.item_knn import ItemKNN, ItemKNNParams, fit_item_knn

__all__ = ["BehaviourModel", "TenantBehaviour", "train_behaviour", "SERVING_KNN"]

# Tuned on the Amazon Beauty validation items (bench/bench_recsys.py).
SERVING_KNN = ItemKNNParams(history_decay=0.5, window_decay=0.7, backward_weight=0.7)


@dataclass(frozen=True)
class TenantBehaviour:
    product_ids: tuple[str, ...]
    index: dict[str, int]
    knn: ItemKNN
    popularity: NDArray[np.float64]  # weighted event count per product, 0..1 (max = 1)

    def history_indices(self, history: Sequence[StoredEvent]) -> NDArray[np.int64]:
        """The user's events as product indices, oldest first, strong events repeated."""
        seq: list[int] = []
        for event in history:
            i = self.index.get(event.product_id)
            repeat = round(event.weight)
            if i is not None and repeat > 0:
                seq.extend([i] * repeat)
        return np.asarray(seq, dtype=np.int64)

    def scores(self, history: Sequence[StoredEvent]) -> NDArray[np.float32]:
        """Similarity of every product to the user's history (0 without history)."""
        seq = self.history_indices(history)
        if seq.size == 0:
            return np.zeros(len(self.product_ids), np.float32)
        return self.knn.scores([seq])[0]


@dataclass(frozen=True)
class BehaviourModel:
    version: str
    tenants: dict[str, TenantBehaviour] = field(default_factory=dict)
    events_seen: int = 0

    def for_tenant(self, tenant: str) -> TenantBehaviour | None:
        return self.tenants.get(tenant)


def train_behaviour(version: str, events: Iterable[tuple[str, StoredEvent]]) -> BehaviourModel:
    per_user: dict[str, dict[str, list[StoredEvent]]] = defaultdict(lambda: defaultdict(list))
    total = 0
    for tenant, event in events:
        per_user[tenant][event.user_id].append(event)
        total += 1
    tenants = {}
    for tenant, users in per_user.items():
        product_ids = tuple(sorted({e.product_id for evs in users.values() for e in evs}))
        index = {pid: i for i, pid in enumerate(product_ids)}
        popularity = np.zeros(len(product_ids))
        for evs in users.values():
            for e in evs:
                popularity[index[e.product_id]] += e.weight
        # A temporary model only to reuse history_indices' weighting for the sequences.
        draft = TenantBehaviour(product_ids, index, fit_item_knn([], len(product_ids)), popularity)
        sequences = [draft.history_indices(evs) for evs in users.values()]
        knn = fit_item_knn([s for s in sequences if s.size], len(product_ids), SERVING_KNN)
        top = popularity.max() if popularity.size else 0.0
        tenants[tenant] = TenantBehaviour(
            product_ids, index, knn, popularity / top if top > 0 else popularity
        )
    return BehaviourModel(version=version, tenants=tenants, events_seen=total)
