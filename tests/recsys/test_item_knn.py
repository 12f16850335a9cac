"""Item-kNN similarity on small hand-made histories."""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.recsys.item_knn import ItemKNNParams, fit_item_knn, item_similarity

H = [np.array([0, 1, 2]), np.array([0, 1]), np.array([1, 3])]


def test_plain_cosine_is_cooccurrence_over_the_geometric_mean_of_counts() -> None:
    sim = item_similarity(H, 4, ItemKNNParams()).toarray()
    counts = np.array([2, 3, 1, 1])
    assert sim[0, 1] == pytest.approx(2 / math.sqrt(2 * 3))
    assert sim[1, 3] == pytest.approx(1 / math.sqrt(3 * 1))
    assert sim[0, 3] == 0.0
    np.testing.assert_allclose(sim, sim.T, rtol=1e-6)  # symmetric when order does not matter
    assert np.all(np.diag(sim) == 0)
    assert counts.sum() == sum(len(h) for h in H)


def test_window_decay_and_backward_weight_follow_the_purchase_order() -> None:
    p = ItemKNNParams(window_decay=0.5, backward_weight=0.0, alpha=0.5)
    sim = item_similarity([np.array([0, 1, 2])], 3, p).toarray()
    # 0 -> 1 adjacent (weight 1), 0 -> 2 one purchase apart (0.5); never backwards.
    assert sim[0, 1] == pytest.approx(1.0)
    assert sim[0, 2] == pytest.approx(0.5)
    assert sim[1, 0] == 0.0 and sim[2, 0] == 0.0


def test_alpha_moves_the_normalisation_onto_the_history_item() -> None:
    # alpha = 1: co-occurrence / count of the history item, i.e. P(candidate | history item).
    sim = item_similarity(H, 4, ItemKNNParams(alpha=1.0)).toarray()
    assert sim[1, 0] == pytest.approx(2 / 3)
    assert sim[0, 1] == pytest.approx(2 / 2)


def test_repeated_items_add_no_self_similarity() -> None:
    sim = item_similarity([np.array([0, 0, 1])], 2, ItemKNNParams()).toarray()
    assert sim[0, 0] == 0.0 and sim[1, 1] == 0.0
    assert sim[0, 1] > 0


def test_neighbours_keeps_each_rows_largest_entries() -> None:
    rng = np.random.default_rng(0)
    hist = [rng.choice(30, size=6, replace=False) for _ in range(200)]
    full = item_similarity(hist, 30, ItemKNNParams()).toarray()
    top = item_similarity(hist, 30, ItemKNNParams(neighbours=3)).toarray()
    for row in range(30):
        kept = np.flatnonzero(top[row])
        assert len(kept) == min(3, np.count_nonzero(full[row]))
        assert top[row, kept].min() >= np.sort(full[row])[-3] - 1e-7
        np.testing.assert_allclose(top[row, kept], full[row, kept])


def test_scores_weight_recent_history_items_more() -> None:
    # Item 0 co-occurs with 2 only, item 1 with 3 only; the user bought 0 then 1.
    knn = fit_item_knn([np.array([0, 2]), np.array([1, 3])], 4, ItemKNNParams(history_decay=0.5))
    s = knn.scores([np.array([0, 1])])[0]
    assert s[3] == pytest.approx(2 * s[2])  # the last item weighs 1, the one before 0.5
    plain = fit_item_knn([np.array([0, 2]), np.array([1, 3])], 4).scores([np.array([0, 1])])[0]
    assert plain[3] == pytest.approx(plain[2])


def test_no_histories_give_an_empty_model() -> None:
    knn = fit_item_knn([], 3)
    assert knn.scores([np.array([0])]).shape == (1, 3)
    assert not knn.scores([np.array([0])]).any()
