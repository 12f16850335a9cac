"""What shoppers' events teach: per tenant, the LightFM hybrid + sequential item-kNN blend.

Trained from the event log (`event_store`) by the `recsys.train` task with the model that won
the offline evaluation (`blend_recommender`: HR@10 0.101 on Amazon Beauty vs 0.075 for
recency-weighted item-kNN). Items are the tenant's catalog products with their attributes
(category, brand, finish, colour families, price band) as LightFM item features, so products
nobody has touched yet still score from their attributes. A user's history repeats strong
events (a purchase counts three times a try-on). Products are keyed by product_id, so a model
keeps working when the catalog changes under it: unknown ids simply score nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from services.recsys.blend_recommender import BlendRecommender
from services.recsys.event_store import StoredEvent

__all__ = ["BehaviourModel", "TenantBehaviour", "train_behaviour", "history_sequence"]


def history_sequence(history: Sequence[StoredEvent]) -> list[str]:
    """Product ids, oldest first, each repeated by its event's weight (ratings of 3 or less
    and unknown weights drop out)."""
    seq: list[str] = []
    for event in history:
        seq.extend([event.product_id] * round(event.weight))
    return seq


@dataclass(frozen=True)
class TenantBehaviour:
    model: BlendRecommender
    popularity: NDArray[np.float64]  # weighted event count per model item, 0..1 (max = 1)

    @property
    def index(self) -> Mapping[str, int]:
        return self.model.index

    def scores(self, history: Sequence[StoredEvent]) -> NDArray[np.float32]:
        """Blend score of every model item for this history (zeros without a history)."""
        seq = self.model.item_indices(history_sequence(history))
        if seq.size == 0:
            return np.zeros(self.model.n_items, np.float32)
        return self.model.scores([seq])[0]

    def similarity(self, source: str, target: str) -> float:
        """How strongly `source` in a history points at `target` (the kNN part): for reasons."""
        i, j = self.index.get(source), self.index.get(target)
        if i is None or j is None or i == j:
            return 0.0
        return float(self.model.knn.similarity[i, j])


@dataclass(frozen=True)
class BehaviourModel:
    version: str
    tenants: dict[str, TenantBehaviour] = field(default_factory=dict)
    events_seen: int = 0

    def for_tenant(self, tenant: str) -> TenantBehaviour | None:
        return self.tenants.get(tenant)


def train_behaviour(
    version: str,
    events: Iterable[tuple[str, StoredEvent]],
    item_attributes: Mapping[str, Mapping[str, Iterable[Hashable]]],
) -> BehaviourModel:
    """events: (tenant, event) per user in time order; item_attributes: tenant -> product_id
    -> labels. Tenants without events get no model (they are served from skin and catalog)."""
    from services.recsys.blend_recommender import train  # LightFM: training processes only

    per_user: dict[str, dict[str, list[StoredEvent]]] = defaultdict(lambda: defaultdict(list))
    total = 0
    for tenant, event in events:
        per_user[tenant][event.user_id].append(event)
        total += 1
    tenants = {}
    for tenant, users in per_user.items():
        histories = [h for h in (history_sequence(evs) for evs in users.values()) if h]
        if not histories:
            continue
        model = train(histories, item_attributes.get(tenant, {}))
        popularity = np.zeros(model.n_items)
        index = model.index
        for evs in users.values():
            for e in evs:
                i = index.get(e.product_id)
                if i is not None:
                    popularity[i] += e.weight
        top = popularity.max()
        tenants[tenant] = TenantBehaviour(model, popularity / top if top > 0 else popularity)
    return BehaviourModel(version=version, tenants=tenants, events_seen=total)
