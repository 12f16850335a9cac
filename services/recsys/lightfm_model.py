"""LightFM (WARP) hybrid: item features = identity + brand/category attributes, user features =
the user's recent history, recency-weighted.

Why history as user features: Amazon Beauty is driven by recency (the next purchase follows the
last few), and a user described by what they bought needs no embedding of their own, so a new
user or a returning one with fresh purchases is scored without refitting. Training matches that
use: each training row is one *prefix* of a user's history (features: its last items, weighted
decay**k for the item k steps back) with the next item as the positive. Fitting rows of whole
histories against their own items instead teaches the model to recognise items it is given,
not to predict the next one (that variant is 0.056 HR@10 on test, this one ~0.09 on validation).

With `user_history=False` the user features are one identity per user (classic collaborative
LightFM), the "pure" / "+ item attributes" baselines of the evaluation.

Serving needs numpy only: `LightFMEmbeddings` holds the learnt representations, not the LightFM
object (whose compiled extension only training needs).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from services.recsys.interactions import attribute_matrix, history_matrix

__all__ = [
    "LightFMEmbeddings",
    "LightFMParams",
    "fit_lightfm",
    "item_feature_matrix",
    "next_item_rows",
]

IntArray = NDArray[np.int64]
F32 = NDArray[np.float32]


@dataclass(frozen=True)
class LightFMParams:
    components: int = 64
    learning_rate: float = 0.05
    epochs: int = 40
    loss: str = "warp"
    max_sampled: int = 10  # WARP's negative samples per positive before giving up
    # 0: identity item features only; > 0: plus each brand/category attribute at this weight
    item_attribute_weight: float = 0.3
    # True: user features = recent history (next-item training rows); False: user identities
    user_history: bool = True
    history_decay: float = 0.5
    history_max_len: int = 10
    seed: int = 0
    num_threads: int = 2  # OpenMP threads; hogwild updates, so > 1 is not bit-reproducible


def item_feature_matrix(
    item_attributes: Sequence[IntArray],
    n_attributes: int,
    attribute_weight: float,
    without_identity: IntArray | None = None,
) -> sp.csr_matrix:
    """Items x (identity + attributes) features. Items in `without_identity` (cold items, never
    seen in training) get no identity feature: their untrained embedding would be noise."""
    n_items = len(item_attributes)
    identity = sp.identity(n_items, format="csr", dtype=np.float32)
    if without_identity is not None and len(without_identity):
        keep = np.ones(n_items, dtype=np.float32)
        keep[without_identity] = 0.0
        identity = sp.diags(keep, format="csr") @ identity
    if attribute_weight <= 0.0:
        return identity.tocsr()
    attrs = attribute_matrix(item_attributes, n_attributes) * attribute_weight
    return sp.hstack([identity, attrs], format="csr", dtype=np.float32)


def next_item_rows(
    histories: Sequence[IntArray], n_items: int, decay: float, max_len: int
) -> tuple[sp.csr_matrix, sp.coo_matrix]:
    """One training row per (history prefix, next item): (prefix features, positives)."""
    prefixes: list[IntArray] = []
    positives: list[int] = []
    for h in histories:
        for t in range(1, len(h)):
            prefixes.append(h[max(0, t - max_len) : t])
            positives.append(int(h[t]))
    if not prefixes:
        raise ValueError("no history has two items or more: nothing to learn a next item from")
    features = history_matrix(prefixes, n_items, decay=decay).astype(np.float32)
    n = len(positives)
    interactions = sp.coo_matrix(
        (np.ones(n, dtype=np.float32), (np.arange(n), np.array(positives))), shape=(n, n_items)
    )
    return features, interactions


@dataclass(frozen=True)
class LightFMEmbeddings:
    """Learnt representations, ready to score: score(user, item) = u . v_item + b_item (the
    user bias is constant per user and does not change a ranking, so it is left out)."""

    item_vectors: F32  # (n_items, d): item features @ item feature embeddings
    item_biases: F32  # (n_items,)
    # user_history=True: embeddings of history items as user features (n_items, d);
    # False: one vector per training user (n_users, d)
    user_feature_vectors: F32
    params: LightFMParams
    fit_seconds: float = 0.0

    def user_vectors(
        self, histories: Sequence[IntArray], user_indices: IntArray | None = None
    ) -> F32:
        if self.params.user_history:
            feats = history_matrix(
                histories,
                self.item_vectors.shape[0],
                decay=self.params.history_decay,
                max_len=self.params.history_max_len,
            ).astype(np.float32)
            return np.asarray(feats @ self.user_feature_vectors, dtype=np.float32)
        if user_indices is None:
            raise ValueError(
                "a LightFM model with user identities (user_history=False) scores known "
                "users only: pass user_indices"
            )
        return self.user_feature_vectors[np.asarray(user_indices)]

    def scores(self, histories: Sequence[IntArray], user_indices: IntArray | None = None) -> F32:
        """(batch, n_items) scores; history items are not masked here."""
        u = self.user_vectors(histories, user_indices)
        out = u @ self.item_vectors.T
        out += self.item_biases[None, :]
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "lightfm_item_vectors": self.item_vectors,
            "lightfm_item_biases": self.item_biases,
            "lightfm_user_feature_vectors": self.user_feature_vectors,
        }

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], params: dict[str, object]
    ) -> LightFMEmbeddings:
        return cls(
            item_vectors=np.asarray(arrays["lightfm_item_vectors"], dtype=np.float32),
            item_biases=np.asarray(arrays["lightfm_item_biases"], dtype=np.float32),
            user_feature_vectors=np.asarray(
                arrays["lightfm_user_feature_vectors"], dtype=np.float32
            ),
            params=LightFMParams(**params),  # type: ignore[arg-type]
        )

    def params_dict(self) -> dict[str, object]:
        return asdict(self.params)


def fit_lightfm(
    histories: Sequence[IntArray],
    n_items: int,
    item_attributes: Sequence[IntArray] | None = None,
    n_attributes: int = 0,
    params: LightFMParams | None = None,
    cold_items: IntArray | None = None,
) -> LightFMEmbeddings:
    """Fit on training histories (item indices, oldest first). `item_attributes` is needed when
    params.item_attribute_weight > 0; `cold_items` get attribute features only."""
    try:
        from lightfm import LightFM
    except ImportError as e:  # training only: serving never imports LightFM
        raise ImportError(
            "LightFM is not installed in this environment: run `make lightfm` "
            "(it builds LightFM 1.17 from its sdist, DESIGN.md section 3)"
        ) from e
    params = params or LightFMParams()
    if params.item_attribute_weight > 0 and item_attributes is None:
        raise ValueError("item_attribute_weight > 0 needs item_attributes (or set it to 0)")
    begin = time.perf_counter()
    if item_attributes is None:
        item_attributes = [np.zeros(0, dtype=np.int64)] * n_items
    item_features = item_feature_matrix(
        item_attributes, n_attributes, params.item_attribute_weight, cold_items
    )
    if params.user_history:
        user_features, interactions = next_item_rows(
            histories, n_items, params.history_decay, params.history_max_len
        )
    else:
        interactions = history_matrix(histories, n_items, binary=True).astype(np.float32).tocoo()
        user_features = sp.identity(len(histories), format="csr", dtype=np.float32)
    model = LightFM(
        no_components=params.components,
        loss=params.loss,
        learning_rate=params.learning_rate,
        max_sampled=params.max_sampled,
        random_state=params.seed,
    )
    model.fit(
        interactions,
        user_features=user_features,
        item_features=item_features,
        epochs=params.epochs,
        num_threads=params.num_threads,
    )
    item_biases, item_vectors = model.get_item_representations(item_features)
    if params.user_history:
        # History items as user features: row i of the user feature embeddings is item i.
        user_vectors = model.user_embeddings
    else:
        _, user_vectors = model.get_user_representations(user_features)
    return LightFMEmbeddings(
        item_vectors=np.ascontiguousarray(item_vectors, dtype=np.float32),
        item_biases=np.ascontiguousarray(item_biases, dtype=np.float32),
        user_feature_vectors=np.ascontiguousarray(user_vectors, dtype=np.float32),
        params=params,
        fit_seconds=time.perf_counter() - begin,
    )
