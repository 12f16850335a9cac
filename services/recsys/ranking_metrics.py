"""Full-ranking metrics for one held-out item per user: HR@k, NDCG@k and AUC.

Every item is a candidate except the user's earlier items. Ties are broken at random *in
expectation*: a target tied with t other items at rank g gets the mean of the metric over the
t + 1 positions it could take. Without this, a model that scores most items 0 (item-kNN for a
user with few neighbours) would look better or worse depending on sort order alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["RankingMetrics", "Scorer", "evaluate_scorer", "metrics_from_ranks", "rank_targets"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# (histories of a batch of users, their indices) -> scores (batch, n_items)
Scorer = Callable[[Sequence[IntArray], IntArray], NDArray[np.floating]]


@dataclass(frozen=True)
class RankingMetrics:
    hr: float  # hit rate at k: share of users whose target is in their top k
    ndcg: float  # 1 / log2(rank + 2) if the target is in the top k, else 0; averaged
    auc: float  # share of candidates scored below the target; averaged
    k: int
    n_users: int

    def row(self) -> str:
        return f"HR@{self.k} {self.hr:.4f}  NDCG@{self.k} {self.ndcg:.4f}  AUC {self.auc:.4f}"


def rank_targets(
    scores: NDArray[np.floating], histories: Sequence[IntArray], targets: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Per user: (items scored strictly above the target, other items tied with it, number of
    candidates). History items are excluded; `scores` is modified in place (set to -inf there).
    """
    n = scores.shape[0]
    if len(histories) != n or len(targets) != n:
        raise ValueError(
            f"{n} score rows but {len(histories)} histories and {len(targets)} targets"
        )
    rows = np.repeat(np.arange(n), [len(h) for h in histories])
    cols = np.concatenate(histories) if n else np.zeros(0, dtype=np.int64)
    scores[rows, cols] = -np.inf
    target_scores = scores[np.arange(n), targets]
    if np.any(np.isneginf(target_scores)):
        raise ValueError("a target item is also in its user's history: it cannot be ranked")
    greater = (scores > target_scores[:, None]).sum(axis=1)
    ties = (scores == target_scores[:, None]).sum(axis=1) - 1
    candidates = scores.shape[1] - np.array([len(np.unique(h)) for h in histories])
    return greater, ties, candidates


def metrics_from_ranks(
    greater: IntArray, ties: IntArray, candidates: IntArray, k: int = 10
) -> RankingMetrics:
    # disc[p] = sum of 1/log2(q + 2) for q < p: the NDCG mass of positions 0..p-1
    disc = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))])
    first = np.minimum(greater, k)
    last = np.minimum(greater + ties + 1, k)  # positions first..last-1 fall in the top k
    span = (ties + 1).astype(np.float64)
    hr = (last - first) / span
    ndcg = (disc[last] - disc[first]) / span
    negatives = np.maximum(candidates - 1, 1)
    auc = 1.0 - (greater + 0.5 * ties) / negatives
    return RankingMetrics(
        hr=float(hr.mean()),
        ndcg=float(ndcg.mean()),
        auc=float(auc.mean()),
        k=k,
        n_users=len(greater),
    )


def evaluate_scorer(
    scorer: Scorer,
    histories: Sequence[IntArray],
    targets: IntArray,
    k: int = 10,
    batch_size: int = 2048,
    candidates: IntArray | None = None,
) -> RankingMetrics:
    """Rank each user's target among all items (or only `candidates`, item indices) minus the
    user's history; users are scored in batches to bound memory (batch x n_items floats)."""
    parts = []
    for start in range(0, len(histories), batch_size):
        idx = np.arange(start, min(start + batch_size, len(histories)))
        hist = [np.asarray(histories[i], dtype=np.int64) for i in idx]
        scores = np.array(scorer(hist, idx))  # a copy: rank_targets writes into it
        tgt = np.asarray(targets[idx], dtype=np.int64)
        if candidates is not None:
            scores, hist, tgt = _restrict(scores, hist, tgt, candidates)
        parts.append(rank_targets(scores, hist, tgt))
    greater, ties, cands = (np.concatenate(p) for p in zip(*parts, strict=True))
    return metrics_from_ranks(greater, ties, cands, k)


def _restrict(
    scores: NDArray[np.floating], hist: list[IntArray], targets: IntArray, candidates: IntArray
) -> tuple[NDArray[np.floating], list[IntArray], IntArray]:
    """Keep only the candidate columns, re-indexing histories and targets into them."""
    position = np.full(scores.shape[1], -1, dtype=np.int64)
    position[candidates] = np.arange(len(candidates))
    if np.any(position[targets] < 0):
        raise ValueError("a target item is not among the candidates")
    hist = [position[h][position[h] >= 0] for h in hist]
    return scores[:, candidates], hist, position[targets]
