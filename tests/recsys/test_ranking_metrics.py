"""HR@k, NDCG@k and AUC on hand-computed cases, ties included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.recsys.ranking_metrics import evaluate_scorer, metrics_from_ranks, rank_targets


def test_target_ranked_first_third_and_eleventh() -> None:
    scores = np.array([np.arange(20, 0, -1), np.arange(20, 0, -1), np.arange(20, 0, -1)], float)
    greater, ties, cands = rank_targets(scores, [np.zeros(0, np.int64)] * 3, np.array([0, 2, 10]))
    np.testing.assert_array_equal(greater, [0, 2, 10])
    np.testing.assert_array_equal(ties, [0, 0, 0])
    m = metrics_from_ranks(greater, ties, cands, k=10)
    assert m.hr == pytest.approx(2 / 3)
    assert m.ndcg == pytest.approx((1.0 + 1 / math.log2(4)) / 3)
    assert m.auc == pytest.approx(np.mean([19 / 19, 17 / 19, 9 / 19]))


def test_history_items_are_not_candidates() -> None:
    scores = np.array([[9.0, 8.0, 7.0, 1.0]])
    # Items 0 and 1 score higher but were bought before: the target (2) is first.
    greater, ties, cands = rank_targets(scores, [np.array([0, 1])], np.array([2]))
    assert (greater[0], ties[0], cands[0]) == (0, 0, 2)
    with pytest.raises(ValueError, match="in its user's history"):
        rank_targets(np.array([[1.0, 2.0]]), [np.array([1])], np.array([1]))


def test_ties_count_as_a_random_order_in_expectation() -> None:
    # 100 candidates all scored 0 (a kNN with no evidence): P(top 10) = 10 / 100.
    scores = np.zeros((1, 100))
    m = metrics_from_ranks(*rank_targets(scores, [np.zeros(0, np.int64)], np.array([5])), k=10)
    assert m.hr == pytest.approx(0.1)
    assert m.ndcg == pytest.approx(sum(1 / math.log2(p + 2) for p in range(10)) / 100)
    assert m.auc == pytest.approx(0.5)
    # 3 items above, tied with 1 other: positions 3 or 4, both in the top 10.
    scores = np.array([[5.0, 5.0, 5.0, 2.0, 2.0, 1.0]])
    g, t, c = rank_targets(scores, [np.zeros(0, np.int64)], np.array([3]))
    m = metrics_from_ranks(g, t, c, k=4)
    assert m.hr == pytest.approx(0.5)
    assert m.ndcg == pytest.approx(0.5 / math.log2(5))


def test_evaluate_scorer_batches_and_candidates_agree_with_one_shot() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random((50, 30))
    histories = [rng.choice(30, size=3, replace=False) for _ in range(50)]
    targets = np.array([next(i for i in range(30) if i not in h) for h in histories])

    def scorer(h, users):
        return scores[users]

    one = evaluate_scorer(scorer, histories, targets, batch_size=50)
    many = evaluate_scorer(scorer, histories, targets, batch_size=7)
    assert one == many
    # Restricting to all items is the same as no restriction.
    assert evaluate_scorer(scorer, histories, targets, candidates=np.arange(30)) == one
    with pytest.raises(ValueError, match="not among the candidates"):
        evaluate_scorer(scorer, histories, targets, candidates=np.array([29]))
