"""The next-item recommender on raw ids: training, recommend, save / load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.recsys.blend_recommender import (
    LATEST_FILE,
    BlendConfig,
    BlendRecommender,
    train,
)
from services.recsys.item_knn import ItemKNNParams
from services.recsys.lightfm_model import LightFMParams

FAST = BlendConfig(
    knn=ItemKNNParams(history_decay=0.5, window_decay=0.8, backward_weight=0.25, alpha=0.9),
    lightfm=LightFMParams(components=8, epochs=5, num_threads=1),
    lightfm_weight=0.5,
)


def routines(n_users: int = 300, seed: int = 0) -> list[list[str]]:
    """Shoppers following skincare routines: cleanser -> toner -> serum -> cream, per brand."""
    rng = np.random.default_rng(seed)
    steps = ("cleanser", "toner", "serum", "cream")
    out = []
    for _ in range(n_users):
        brand = int(rng.integers(5))
        start = int(rng.integers(2))
        out.append([f"b{brand}-{s}" for s in steps[start:]])
    return out


@pytest.fixture(scope="module")
def model() -> BlendRecommender:
    attrs = {f"b{b}-{s}": [f"brand{b}", s] for b in range(5)
             for s in ("cleanser", "toner", "serum", "cream")}  # fmt: skip
    return train(routines(), attrs, FAST)


def test_recommends_the_next_step_of_the_routine(model: BlendRecommender) -> None:
    top = model.recommend(["b3-cleanser", "b3-toner"], k=3)
    assert top[0][0] == "b3-serum"
    assert all(0.0 <= s <= 1.0 for _, s in top)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


def test_history_exclude_and_candidates_are_respected(model: BlendRecommender) -> None:
    everything = model.recommend(["b1-cleanser"], k=100)
    ids = [i for i, _ in everything]
    assert "b1-cleanser" not in ids and len(ids) == model.n_items - 1
    assert "b1-cleanser" in [i for i, _ in model.recommend(["b1-cleanser"], k=100,
                                                           exclude_history=False)]  # fmt: skip
    ids = [i for i, _ in model.recommend(["b1-cleanser"], k=5, exclude=["b1-toner"])]
    assert "b1-toner" not in ids
    ids = [i for i, _ in model.recommend(["b1-cleanser"], k=5, candidates=["b2-cream", "b4-x"])]
    assert ids == ["b2-cream"]  # unknown candidates are ignored
    with pytest.raises(ValueError, match="k must be"):
        model.recommend([], k=0)


def test_unknown_or_empty_history_still_gets_recommendations(model: BlendRecommender) -> None:
    assert len(model.recommend([], k=4)) == 4
    assert model.recommend(["never-seen"], k=4) == model.recommend([], k=4)


def test_save_load_round_trip_and_latest(model: BlendRecommender, tmp_path: Path) -> None:
    path = model.save(tmp_path, version="v1")
    assert path == tmp_path / "v1" and (tmp_path / LATEST_FILE).read_text().strip() == "v1"
    assert sorted(p.name for p in path.iterdir()) == ["meta.json", "model.npz"]
    loaded = BlendRecommender.load_latest(tmp_path)
    assert loaded.item_ids == model.item_ids
    for history in (["b0-cleanser"], ["b2-toner", "b2-serum"], []):
        assert loaded.recommend(history, k=8) == model.recommend(history, k=8)
    model.save(tmp_path, version="v2")
    assert BlendRecommender.load_latest(tmp_path).item_ids == model.item_ids
    assert (tmp_path / LATEST_FILE).read_text().strip() == "v2"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    with pytest.raises(FileExistsError, match="immutable"):
        model.save(tmp_path, version="v1")


def test_load_refuses_what_it_cannot_read(model: BlendRecommender, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no model saved"):
        BlendRecommender.load_latest(tmp_path)
    path = model.save(tmp_path, version="v1")
    meta = json.loads((path / "meta.json").read_text())
    meta["format_version"] = 999
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format 999"):
        BlendRecommender.load(path)
