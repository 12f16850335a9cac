"""User-item interaction data: the Amazon Beauty loader, the leave-one-out split and sparse
matrices built from per-user histories.

Items and attributes are dense 0-based indices everywhere in services/recsys; the raw ids of the
files are kept only to translate at the edges. A history is a 1-d int array of item indices in
time order (oldest first), the representation every model here consumes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = [
    "AMAZON_BEAUTY_DIR",
    "ColdItemSplit",
    "InteractionData",
    "LeaveOneOutSplit",
    "attribute_matrix",
    "cold_item_split",
    "history_matrix",
    "leave_one_out",
    "load_amazon_beauty",
    "recency_weights",
]

IntArray = NDArray[np.int64]
AMAZON_BEAUTY_DIR = Path("interactions") / "amazon_beauty"


@dataclass(frozen=True)
class InteractionData:
    """Every user's history (item indices, oldest first) plus per-item attribute indices."""

    sequences: list[IntArray]
    n_items: int
    item_attributes: list[IntArray]  # per item index, attribute indices (may be empty)
    n_attributes: int
    raw_user_ids: list[str]  # index -> id as written in the source file
    raw_item_ids: list[str]

    @property
    def n_users(self) -> int:
        return len(self.sequences)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))


def load_amazon_beauty(shared_data: Path) -> InteractionData:
    """Read `interactions/amazon_beauty/` under the shared data folder.

    `Beauty.txt` has one line per user, `user item item ...` in time order; item ids are
    re-indexed densely in order of first appearance in the file. Attribute ids of
    `Beauty_item2attributes.json` are re-indexed the same way (items absent from it get none).
    """
    folder = Path(shared_data) / AMAZON_BEAUTY_DIR
    seq_path = folder / "Beauty.txt"
    attr_path = folder / "Beauty_item2attributes.json"
    if not seq_path.is_file():
        raise FileNotFoundError(
            f"{seq_path} not found: point TRYON_SHARED_DATA at the shared data folder "
            "(see ../shared/data/README.md)"
        )
    item_index: dict[str, int] = {}
    raw_users: list[str] = []
    sequences: list[IntArray] = []
    with seq_path.open() as f:
        for line_no, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 2:
                raise ValueError(f"{seq_path}:{line_no}: a user with no items: {line.strip()!r}")
            raw_users.append(fields[0])
            sequences.append(
                np.fromiter(
                    (item_index.setdefault(i, len(item_index)) for i in fields[1:]),
                    dtype=np.int64,
                    count=len(fields) - 1,
                )
            )
    raw_items = list(item_index)

    attributes: list[IntArray] = [np.zeros(0, dtype=np.int64)] * len(raw_items)
    attr_index: dict[int, int] = {}
    if attr_path.is_file():
        with attr_path.open() as f:
            raw_attrs: dict[str, list[int]] = json.load(f)
        for raw_item, attrs in raw_attrs.items():
            idx = item_index.get(raw_item)
            if idx is None:  # attributes of an item nobody interacted with: no use here
                continue
            attributes[idx] = np.array(
                sorted({attr_index.setdefault(a, len(attr_index)) for a in attrs}),
                dtype=np.int64,
            )
    return InteractionData(
        sequences=sequences,
        n_items=len(raw_items),
        item_attributes=attributes,
        n_attributes=len(attr_index),
        raw_user_ids=raw_users,
        raw_item_ids=raw_items,
    )


@dataclass(frozen=True)
class LeaveOneOutSplit:
    """The standard sequential split: per user the last item is the test target, the
    second-last the validation target, the rest is training data.

    At validation time a user's history is `train[u]`; at test time it is `train[u]` followed by
    `valid[u]` (the validation item is known by then, as it would be in production), while the
    models stay fitted on `train` alone, so nothing is tuned on or fitted to the test item.
    """

    train: list[IntArray]
    valid: IntArray  # one item index per user
    test: IntArray
    n_items: int

    @property
    def n_users(self) -> int:
        return len(self.train)

    def histories(self, stage: str) -> list[IntArray]:
        """Histories the models see when predicting `stage` ('valid' or 'test')."""
        if stage == "valid":
            return self.train
        if stage == "test":
            return [np.append(h, v) for h, v in zip(self.train, self.valid, strict=True)]
        raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")

    def targets(self, stage: str) -> IntArray:
        if stage == "valid":
            return self.valid
        if stage == "test":
            return self.test
        raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")


def leave_one_out(sequences: Sequence[IntArray], n_items: int) -> LeaveOneOutSplit:
    """Split every history into train / validation item / test item (needs >= 3 items each:
    the 5-core Amazon data always has 5 or more)."""
    short = [u for u, s in enumerate(sequences) if len(s) < 3]
    if short:
        raise ValueError(
            f"{len(short)} users have fewer than 3 interactions (first: user index {short[0]}); "
            "leave-one-out needs train, validation and test items: filter them out first"
        )
    return LeaveOneOutSplit(
        train=[np.asarray(s[:-2], dtype=np.int64) for s in sequences],
        valid=np.array([s[-2] for s in sequences], dtype=np.int64),
        test=np.array([s[-1] for s in sequences], dtype=np.int64),
        n_items=n_items,
    )


@dataclass(frozen=True)
class ColdItemSplit:
    """New-item cold start: a random share of items never appears in training.

    Training histories are the users' histories before their last item, with every cold item
    removed. The evaluated users are those whose last item is cold; they rank it among the
    cold items only (a "new arrivals" shelf), so only what a model knows about an item without
    interactions - its attributes - can help.
    """

    train: list[IntArray]  # per user, warm items only (all users, for fitting)
    cold_items: IntArray  # sorted item indices
    users: IntArray  # evaluated users
    histories: list[IntArray]  # their warm histories at prediction time
    targets: IntArray  # their last (cold) item
    n_items: int


def cold_item_split(
    sequences: Sequence[IntArray], n_items: int, cold_fraction: float = 0.1, seed: int = 0
) -> ColdItemSplit:
    if not 0.0 < cold_fraction < 1.0:
        raise ValueError(f"cold_fraction must be in (0, 1), got {cold_fraction}")
    rng = np.random.default_rng(seed)
    cold = np.sort(rng.choice(n_items, size=round(cold_fraction * n_items), replace=False))
    is_cold = np.zeros(n_items, dtype=bool)
    is_cold[cold] = True
    train = [np.asarray(s[:-1])[~is_cold[s[:-1]]] for s in sequences]
    users = np.array(
        [u for u, s in enumerate(sequences) if is_cold[s[-1]] and len(train[u]) > 0],
        dtype=np.int64,
    )
    return ColdItemSplit(
        train=train,
        cold_items=cold,
        users=users,
        histories=[train[u] for u in users],
        targets=np.array([sequences[u][-1] for u in users], dtype=np.int64),
        n_items=n_items,
    )


def recency_weights(length: int, decay: float) -> NDArray[np.float64]:
    """Weights of a history of `length` items, oldest first: the item k steps from the end
    gets decay**k (the last item 1). decay=1 is the plain, order-free sum."""
    return decay ** np.arange(length - 1, -1, -1, dtype=np.float64)


def history_matrix(
    histories: Sequence[IntArray],
    n_items: int,
    decay: float = 1.0,
    binary: bool = False,
    max_len: int | None = None,
) -> sp.csr_matrix:
    """Users x items CSR matrix of (recency-weighted) histories.

    A repeated item sums its weights unless `binary` (then every present item is 1). `max_len`
    keeps only the last `max_len` items of each history.
    """
    rows, cols, vals = [], [], []
    for u, h in enumerate(histories):
        h = np.asarray(h, dtype=np.int64)
        if max_len is not None:
            h = h[-max_len:]
        rows.append(np.full(len(h), u, dtype=np.int64))
        cols.append(h)
        vals.append(recency_weights(len(h), decay))
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    if c.size and (c.min() < 0 or c.max() >= n_items):
        raise ValueError(f"item index out of range 0..{n_items - 1} in histories")
    m = sp.csr_matrix((v, (r, c)), shape=(len(histories), n_items))
    m.sum_duplicates()
    if binary:
        m.data[:] = 1.0
    return m


def attribute_matrix(item_attributes: Sequence[IntArray], n_attributes: int) -> sp.csr_matrix:
    """Items x attributes binary CSR matrix."""
    indptr = np.zeros(len(item_attributes) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(a) for a in item_attributes])
    indices = np.concatenate(item_attributes) if item_attributes else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(len(item_attributes), n_attributes)
    )
