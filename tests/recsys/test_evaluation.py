"""The offline evaluation on the real Amazon Beauty split, with floors that do not look at
test figures to pick anything: fewer LightFM epochs than the bench (runtime), so the bars are
set well under what the full run measures (bench_recsys)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.recsys.blend_recommender import BlendConfig
from services.recsys.evaluation import (
    BLEND,
    COSINE_KNN,
    LIGHTFM_HYBRID,
    POPULARITY,
    EvaluationConfig,
    evaluate,
    format_report,
)
from services.recsys.interactions import InteractionData

QUICK = EvaluationConfig(
    blend=replace(BlendConfig(), lightfm=replace(BlendConfig().lightfm, epochs=12)),
    blend_weights=(0.0, 0.3, 0.5, 0.7, 0.9),
    cold_start=False,
    methods=frozenset({POPULARITY, COSINE_KNN, LIGHTFM_HYBRID, BLEND}),
)


@pytest.fixture(scope="module")
def report(beauty: InteractionData):
    r = evaluate(beauty, QUICK)
    print("\n" + format_report(r))
    return r


def test_deterministic_baselines_reproduce_the_design_reference(report) -> None:
    # DESIGN.md section 3 measured these on the same split: popularity 0.0138 / 0.0062, cosine
    # item-kNN 0.064 / 0.038. Matching them checks the split, the refit and the metrics.
    pop = report.get(POPULARITY).test
    assert pop.hr == pytest.approx(0.0138, abs=0.001)
    assert pop.ndcg == pytest.approx(0.0062, abs=0.0005)
    cos = report.get(COSINE_KNN).test
    assert cos.hr == pytest.approx(0.064, abs=0.002)
    assert cos.ndcg == pytest.approx(0.038, abs=0.001)
    assert pop.n_users == 22_363


def test_lightfm_hybrid_beats_popularity(report) -> None:
    pop, hybrid = report.get(POPULARITY).test, report.get(LIGHTFM_HYBRID).test
    assert hybrid.hr > 2 * pop.hr
    assert hybrid.ndcg > 2 * pop.ndcg
    assert hybrid.auc > pop.auc


def test_blend_beats_cosine_item_knn(report) -> None:
    cos, blend = report.get(COSINE_KNN).test, report.get(BLEND).test
    assert blend.hr > cos.hr * 1.1
    assert blend.ndcg > cos.ndcg * 1.1


def test_blend_weight_is_the_best_on_validation(report) -> None:
    res = report.get(BLEND)
    assert report.blend_weight in QUICK.blend_weights
    assert res.valid is not None and res.note == f"LightFM weight {report.blend_weight}"
