"""Blending two scorers: per-user normalisation, the weighted sum, and the weight's tuning on
validation targets.

LightFM scores are unbounded dot products that differ in offset and spread from user to user,
item-kNN scores are non-negative sums that are 0 for every item with no co-occurrence. So each
is rescaled per user before the weighted sum: LightFM to [0, 1] by min-max, item-kNN by its
maximum (keeping its zeros at 0: "no evidence" must not turn into a score). Chosen on
validation against per-user z-scores for either side, which were worse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from services.recsys.ranking_metrics import RankingMetrics, metrics_from_ranks, rank_targets

__all__ = [
    "BlendTuning",
    "blend_scores",
    "scale_by_max",
    "scale_min_max",
    "tune_blend_weight",
]

IntArray = NDArray[np.int64]
Scores = NDArray[np.floating]
DEFAULT_WEIGHTS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))


def scale_min_max(x: Scores) -> NDArray[np.float32]:
    """Per row to [0, 1]; a constant row becomes all 0."""
    lo = x.min(axis=1, keepdims=True)
    span = x.max(axis=1, keepdims=True) - lo
    return ((x - lo) / np.where(span > 0, span, 1.0)).astype(np.float32, copy=False)


def scale_by_max(x: Scores) -> NDArray[np.float32]:
    """Per row divided by its largest absolute value; an all-zero row stays 0."""
    top = np.abs(x).max(axis=1, keepdims=True)
    return (x / np.where(top > 0, top, 1.0)).astype(np.float32, copy=False)


def blend_scores(lightfm_scores: Scores, knn_scores: Scores, lightfm_weight: float) -> Scores:
    """lightfm_weight * minmax(LightFM) + (1 - lightfm_weight) * knn / max(knn), per user."""
    if not 0.0 <= lightfm_weight <= 1.0:
        raise ValueError(f"lightfm_weight must be in [0, 1], got {lightfm_weight}")
    out = scale_min_max(lightfm_scores)
    out *= lightfm_weight
    out += (1.0 - lightfm_weight) * scale_by_max(knn_scores)
    return out


@dataclass(frozen=True)
class BlendTuning:
    best_weight: float
    by_weight: dict[float, RankingMetrics]  # validation metrics of every weight tried


def tune_blend_weight(
    lightfm_scorer: Callable[[Sequence[IntArray]], Scores],
    knn_scorer: Callable[[Sequence[IntArray]], Scores],
    histories: Sequence[IntArray],
    targets: IntArray,
    weights: Sequence[float] = DEFAULT_WEIGHTS,
    k: int = 10,
    batch_size: int = 2048,
) -> BlendTuning:
    """Pick the LightFM weight with the best NDCG@k on these (validation!) targets.

    Both scorers run once per batch; every weight then only re-ranks, so a grid of 11 costs
    about one evaluation more than a single weight.
    """
    parts: dict[float, list[tuple[IntArray, IntArray, IntArray]]] = {w: [] for w in weights}
    for start in range(0, len(histories), batch_size):
        hist = [np.asarray(h, dtype=np.int64) for h in histories[start : start + batch_size]]
        tgt = np.asarray(targets[start : start + batch_size], dtype=np.int64)
        a, b = lightfm_scorer(hist), knn_scorer(hist)
        for w in weights:
            parts[w].append(rank_targets(blend_scores(a, b, w), hist, tgt))
    by_weight = {
        w: metrics_from_ranks(*(np.concatenate(p) for p in zip(*ps, strict=True)), k=k)
        for w, ps in parts.items()
    }
    # Ties go to the smaller LightFM weight: the cheaper, more robust side.
    best = max(weights, key=lambda w: (round(by_weight[w].ndcg, 6), -w))
    return BlendTuning(best_weight=best, by_weight=by_weight)
