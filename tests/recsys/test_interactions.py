"""The Amazon Beauty loader, the leave-one-out split, the cold-item split and the matrices."""

from __future__ import annotations

import numpy as np
import pytest

from services.recsys.interactions import (
    InteractionData,
    attribute_matrix,
    cold_item_split,
    history_matrix,
    leave_one_out,
    recency_weights,
)


def test_amazon_beauty_has_the_published_size(beauty: InteractionData) -> None:
    # Figures of ../shared/data/README.md (the 5-core Beauty set of the SASRec/S3Rec papers).
    assert beauty.n_users == 22_363
    assert beauty.n_items == 12_101
    assert beauty.n_interactions == 198_502
    assert beauty.n_attributes <= 637
    assert min(len(s) for s in beauty.sequences) >= 5  # 5-core
    assert all(s.min() >= 0 and s.max() < beauty.n_items for s in beauty.sequences)
    assert len(beauty.raw_item_ids) == beauty.n_items == len(beauty.item_attributes)


def test_loader_keeps_the_file_order_of_each_history(beauty: InteractionData, shared_data) -> None:
    path = shared_data / "interactions" / "amazon_beauty" / "Beauty.txt"
    with path.open() as f:
        for u, line in zip(range(200), f, strict=False):
            user, *items = line.split()
            assert beauty.raw_user_ids[u] == user
            assert [beauty.raw_item_ids[i] for i in beauty.sequences[u]] == items


def test_leave_one_out_is_last_test_second_last_validation_rest_train(
    beauty: InteractionData,
) -> None:
    split = leave_one_out(beauty.sequences, beauty.n_items)
    assert split.n_users == beauty.n_users
    for u, seq in enumerate(beauty.sequences):
        assert split.test[u] == seq[-1]
        assert split.valid[u] == seq[-2]
        np.testing.assert_array_equal(split.train[u], seq[:-2])
    # What each stage's models may see: never its own target, never a later item.
    for u in range(0, beauty.n_users, 97):
        np.testing.assert_array_equal(split.histories("valid")[u], beauty.sequences[u][:-2])
        np.testing.assert_array_equal(split.histories("test")[u], beauty.sequences[u][:-1])
    np.testing.assert_array_equal(split.targets("test"), split.test)
    with pytest.raises(ValueError, match="'valid' or 'test'"):
        split.histories("train")


def test_leave_one_out_refuses_histories_too_short_to_split() -> None:
    seqs = [np.array([0, 1, 2]), np.array([3, 4])]
    with pytest.raises(ValueError, match="fewer than 3 interactions.*user index 1"):
        leave_one_out(seqs, 5)


def test_cold_item_split_hides_the_cold_items_from_training(beauty: InteractionData) -> None:
    cold = cold_item_split(beauty.sequences, beauty.n_items, cold_fraction=0.1, seed=0)
    assert len(cold.cold_items) == round(0.1 * beauty.n_items)
    is_cold = np.zeros(beauty.n_items, dtype=bool)
    is_cold[cold.cold_items] = True
    assert not any(is_cold[h].any() for h in cold.train)
    assert len(cold.users) > 1000
    for i, u in enumerate(cold.users):
        seq = beauty.sequences[u]
        assert cold.targets[i] == seq[-1] and is_cold[seq[-1]]
        np.testing.assert_array_equal(cold.histories[i], seq[:-1][~is_cold[seq[:-1]]])
    # Nobody's last item is in training: the split never leaks a target.
    assert all(len(cold.train[u]) == np.sum(~is_cold[s[:-1]])
               for u, s in enumerate(beauty.sequences))  # fmt: skip


def test_recency_weights_halve_per_step_back() -> None:
    np.testing.assert_allclose(recency_weights(4, 0.5), [0.125, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(recency_weights(3, 1.0), [1.0, 1.0, 1.0])


def test_history_matrix_weights_truncation_and_range_check() -> None:
    m = history_matrix([np.array([2, 0, 1]), np.array([1])], 4, decay=0.5).toarray()
    np.testing.assert_allclose(m, [[0.5, 1.0, 0.25, 0.0], [0.0, 1.0, 0.0, 0.0]])
    m = history_matrix([np.array([2, 0, 1])], 4, decay=0.5, max_len=2).toarray()
    np.testing.assert_allclose(m, [[0.5, 1.0, 0.0, 0.0]])
    m = history_matrix([np.array([1, 1])], 3, binary=True).toarray()
    np.testing.assert_allclose(m, [[0.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="out of range"):
        history_matrix([np.array([5])], 3)


def test_attribute_matrix_is_items_by_attributes() -> None:
    m = attribute_matrix([np.array([0, 2]), np.array([], dtype=np.int64), np.array([1])], 3)
    np.testing.assert_array_equal(m.toarray(), [[1, 0, 1], [0, 0, 0], [0, 1, 0]])
