"""The LightFM hybrid: training rows, features, and that it learns a next-item pattern."""

from __future__ import annotations

import numpy as np
import pytest

from services.recsys.lightfm_model import (
    LightFMParams,
    fit_lightfm,
    item_feature_matrix,
    next_item_rows,
)


def test_next_item_rows_pair_each_prefix_with_the_next_item() -> None:
    feats, inter = next_item_rows([np.array([3, 1, 2]), np.array([0, 4])], 5, 0.5, max_len=1)
    np.testing.assert_allclose(
        feats.toarray(),
        [[0, 0, 0, 1, 0], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0]],  # max_len=1: the last item only
    )
    assert sorted(zip(inter.row.tolist(), inter.col.tolist(), strict=True)) == [
        (0, 1), (1, 2), (2, 4)
    ]  # fmt: skip
    feats, _ = next_item_rows([np.array([3, 1, 2])], 5, 0.5, max_len=10)
    np.testing.assert_allclose(feats.toarray()[1], [0, 1, 0, 0.5, 0])
    with pytest.raises(ValueError, match="two items or more"):
        next_item_rows([np.array([1])], 5, 0.5, 10)


def test_item_features_are_identity_plus_weighted_attributes() -> None:
    f = item_feature_matrix([np.array([0]), np.array([0, 1]), np.array([1])], 2, 0.3)
    np.testing.assert_allclose(
        f.toarray(), [[1, 0, 0, 0.3, 0], [0, 1, 0, 0.3, 0.3], [0, 0, 1, 0, 0.3]], rtol=1e-6
    )
    cold = item_feature_matrix(
        [np.array([0]), np.array([1])], 2, 0.3, without_identity=np.array([1])
    ).toarray()
    np.testing.assert_allclose(cold, [[1, 0, 0.3, 0], [0, 0, 0, 0.3]], rtol=1e-6)


def test_hybrid_learns_a_cyclic_next_item_pattern() -> None:
    # 40 items in 4 cycles of 10: after item i always comes the next of its cycle. A model that
    # only counted popularity would be at chance (~1/36 per guess).
    rng = np.random.default_rng(0)
    seqs = []
    for _ in range(400):
        start, cycle = rng.integers(10), rng.integers(4)
        seqs.append(cycle * 10 + (start + np.arange(6)) % 10)
    model = fit_lightfm(seqs, 40, params=LightFMParams(
        components=16, epochs=30, item_attribute_weight=0.0, num_threads=1))  # fmt: skip
    hits = 0
    for cycle in range(4):
        for i in range(10):
            scores = model.scores([np.array([cycle * 10 + i])])[0]
            scores[cycle * 10 + i] = -np.inf
            hits += int(np.argmax(scores) == cycle * 10 + (i + 1) % 10)
    assert hits >= 32, f"next item ranked first for only {hits}/40 items"
    assert model.item_vectors.shape == (40, 16)
    assert model.user_feature_vectors.shape == (40, 16)


def test_user_identity_model_needs_user_indices() -> None:
    seqs = [np.array([0, 1, 2]), np.array([1, 2, 3])]
    model = fit_lightfm(seqs, 4, params=LightFMParams(
        components=4, epochs=2, user_history=False, item_attribute_weight=0.0))  # fmt: skip
    assert model.scores(seqs, np.array([0, 1])).shape == (2, 4)
    with pytest.raises(ValueError, match="pass user_indices"):
        model.scores(seqs)


def test_attributes_are_required_when_weighted() -> None:
    with pytest.raises(ValueError, match="needs item_attributes"):
        fit_lightfm([np.array([0, 1])], 2, params=LightFMParams(item_attribute_weight=0.3))
