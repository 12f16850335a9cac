"""Score scaling, the blend and its weight tuning."""

from __future__ import annotations

import numpy as np
import pytest

from services.recsys.blend import blend_scores, scale_by_max, scale_min_max, tune_blend_weight


def test_scalings_are_per_user_and_keep_constant_rows_finite() -> None:
    x = np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(scale_min_max(x), [[0, 1, 0.5], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(scale_by_max(x), [[1 / 3, 1, 2 / 3], [1, 1, 1], [0, 0, 0]])


def test_blend_endpoints_reproduce_each_side() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 50)), rng.random((4, 50))
    np.testing.assert_array_equal(np.argsort(blend_scores(a, b, 1.0)), np.argsort(a))
    np.testing.assert_array_equal(np.argsort(blend_scores(a, b, 0.0)), np.argsort(b))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        blend_scores(a, b, 1.5)


def test_tuning_picks_the_weight_that_ranks_validation_targets_best() -> None:
    # The target is found by LightFM for half the users and by kNN for the other half, each
    # putting it first; the other side ranks it last. Only a mix ranks all of them high.
    n_users, n_items = 40, 30
    targets = np.arange(n_users) % n_items
    a = np.zeros((n_users, n_items))
    b = np.zeros((n_users, n_items))
    for u, t in enumerate(targets):
        a[u] = np.linspace(0, 1, n_items)
        b[u] = np.linspace(1, 0, n_items)
        a[u, t], b[u, t] = (1.5, 0.5) if u % 2 else (0.5, 1.5)

    histories = [np.zeros(0, dtype=np.int64)] * n_users

    def lightfm(h):  # one batch holds every user (batch_size > n_users)
        return a[: len(h)]

    def knn(h):
        return b[: len(h)]

    tuning = tune_blend_weight(lightfm, knn, histories, targets, weights=(0.0, 0.5, 1.0))
    assert tuning.best_weight == 0.5
    assert tuning.by_weight[0.5].ndcg > max(tuning.by_weight[0.0].ndcg, tuning.by_weight[1.0].ndcg)
