"""Offline evaluation of the recommenders on the Amazon Beauty leave-one-out split, warm and
cold start.

Protocol (the one the DESIGN.md section 3 reference figures were measured with):

* full ranking over all items minus the user's earlier items; HR@10, NDCG@10, AUC; ties broken
  at random in expectation (ranking_metrics.py);
* hyperparameters are chosen on the *validation* item with models fitted on the training
  items; the test figures come from the same settings refitted on training + validation items
  (everything before the test item), so nothing ever looks at a test item before it is scored;
* cold start (new items): 10% of items are removed from training entirely; users whose last
  item is one of them rank it among the cold items (a "new arrivals" shelf). Nothing is tuned
  on it: every method keeps its warm settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from services.recsys.blend import DEFAULT_WEIGHTS, blend_scores, tune_blend_weight
from services.recsys.blend_recommender import BlendConfig
from services.recsys.interactions import (
    InteractionData,
    attribute_matrix,
    cold_item_split,
    history_matrix,
    leave_one_out,
)
from services.recsys.item_knn import ItemKNN, ItemKNNParams, fit_item_knn
from services.recsys.lightfm_model import LightFMEmbeddings, fit_lightfm
from services.recsys.ranking_metrics import RankingMetrics, evaluate_scorer

__all__ = [
    "EvaluationConfig",
    "EvaluationReport",
    "MethodResult",
    "evaluate",
    "format_report",
]

IntArray = NDArray[np.int64]
Scorer = Callable[[Sequence[IntArray], IntArray], NDArray[np.floating]]


@dataclass(frozen=True)
class EvaluationConfig:
    blend: BlendConfig = field(default_factory=BlendConfig)
    recency_decays: tuple[float, ...] = (0.3, 0.5, 0.7)  # tuned on validation
    blend_weights: tuple[float, ...] = DEFAULT_WEIGHTS  # tuned on validation
    cold_fraction: float = 0.1
    cold_start: bool = True
    seed: int = 0
    k: int = 10
    # Fewer methods for quick runs (tests): None = all. Names as in MethodResult.name.
    methods: frozenset[str] | None = None


@dataclass(frozen=True)
class MethodResult:
    name: str
    split: str  # "warm" or "cold items"
    test: RankingMetrics
    valid: RankingMetrics | None  # None where nothing was tuned and no validation fit ran
    fit_seconds: float  # the fit behind the test figures
    note: str = ""


@dataclass(frozen=True)
class EvaluationReport:
    results: list[MethodResult]
    blend_weight: float
    seconds: float

    def get(self, name: str, split: str = "warm") -> MethodResult:
        for r in self.results:
            if r.name == name and r.split == split:
                return r
        raise KeyError(f"no result for {name!r} on {split!r}")

    def n_users(self, split: str) -> int:
        return next((r.test.n_users for r in self.results if r.split == split), 0)


# Method names, in table order.
RANDOM = "random"
POPULARITY = "popularity"
COSINE_KNN = "item-kNN cosine"
RECENCY_KNN = "item-kNN recency-weighted"
SEQUENTIAL_KNN_NAME = "item-kNN sequential"
ATTRIBUTE_SIM = "attribute similarity"
LIGHTFM_PURE = "LightFM WARP pure"
LIGHTFM_ATTRS = "LightFM + item attributes"
LIGHTFM_HYBRID = "LightFM + attributes + user history"
BLEND = "blend: LightFM hybrid + seq. kNN"


class _Results:
    """Collects results and reports each one as it lands (the full run takes minutes)."""

    def __init__(self, log: Callable[[str], None] | None) -> None:
        self.items: list[MethodResult] = []
        self._log = log
        self._begin = time.perf_counter()

    def add(self, result: MethodResult) -> None:
        self.items.append(result)
        if self._log is not None:
            elapsed = time.perf_counter() - self._begin
            r = result
            self._log(f"[{elapsed:5.0f} s] {r.split:<10} {r.name:<38} {r.test.row()}")


def evaluate(
    data: InteractionData,
    config: EvaluationConfig | None = None,
    log: Callable[[str], None] | None = None,
) -> EvaluationReport:
    """Run every method of the config; `log` (e.g. print) gets a line per finished method."""
    config = config or EvaluationConfig()
    begin = time.perf_counter()
    split = leave_one_out(data.sequences, data.n_items)
    valid_h, valid_t = split.histories("valid"), split.targets("valid")
    test_h, test_t = split.histories("test"), split.targets("test")
    n = data.n_items
    wanted = config.methods
    results = _Results(log)
    k = config.k

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    def ev(scorer: Scorer, histories: Sequence[IntArray], targets: IntArray) -> RankingMetrics:
        return evaluate_scorer(scorer, histories, targets, k=k)

    if want(RANDOM):
        results.add(
            MethodResult(
                RANDOM,
                "warm",
                ev(_random_scorer(n, config.seed), test_h, test_t),
                ev(_random_scorer(n, config.seed), valid_h, valid_t),
                0.0,
            )
        )
    if want(POPULARITY):
        t0 = time.perf_counter()
        pop = _popularity(test_h, n)
        fit = time.perf_counter() - t0
        results.add(
            MethodResult(
                POPULARITY,
                "warm",
                ev(_constant_scorer(pop), test_h, test_t),
                ev(_constant_scorer(_popularity(split.train, n)), valid_h, valid_t),
                fit,
            )
        )

    def knn_result(name: str, grid: Sequence[ItemKNNParams], note: str = "") -> MethodResult:
        valid_by = {}
        for p in grid:  # choose on validation, models fitted on train
            m = fit_item_knn(split.train, n, p)
            valid_by[p] = ev(lambda h, _u, m=m: m.scores(h), valid_h, valid_t)
        best = max(grid, key=lambda p: valid_by[p].ndcg)
        t0 = time.perf_counter()
        model = fit_item_knn(test_h, n, best)
        fit = time.perf_counter() - t0
        chosen = f"decay {best.history_decay} on valid" if len(grid) > 1 else ""
        return MethodResult(
            name,
            "warm",
            ev(lambda h, _u: model.scores(h), test_h, test_t),
            valid_by[best],
            fit,
            "; ".join(x for x in (note, chosen) if x),
        )

    if want(COSINE_KNN):
        results.add(knn_result(COSINE_KNN, [ItemKNNParams()]))
    if want(RECENCY_KNN):
        grid = [ItemKNNParams(history_decay=d) for d in config.recency_decays]
        results.add(knn_result(RECENCY_KNN, grid, "0.5^k-style weights"))
    seq_params = config.blend.knn
    if want(SEQUENTIAL_KNN_NAME) or want(BLEND):
        results.add(knn_result(SEQUENTIAL_KNN_NAME, [seq_params], "window 0.8, order"))

    lfm = config.blend.lightfm
    attrs = data.item_attributes
    n_attrs = data.n_attributes
    pure_p = replace(lfm, user_history=False, item_attribute_weight=0.0)
    attrs_p = replace(lfm, user_history=False)
    for name, p in ((LIGHTFM_PURE, pure_p), (LIGHTFM_ATTRS, attrs_p)):
        if want(name):  # nothing tuned here: one fit on everything before the test item
            model = fit_lightfm(test_h, n, attrs, n_attrs, p)
            results.add(
                MethodResult(
                    name,
                    "warm",
                    ev(_lightfm_scorer(model), test_h, test_t),
                    None,
                    model.fit_seconds,
                    "user identities",
                )
            )

    blend_weight = config.blend.lightfm_weight
    if want(LIGHTFM_HYBRID) or want(BLEND):
        hybrid_train = fit_lightfm(split.train, n, attrs, n_attrs, lfm)
        hybrid_valid = ev(_lightfm_scorer(hybrid_train), valid_h, valid_t)
        hybrid = fit_lightfm(test_h, n, attrs, n_attrs, lfm)
        results.add(
            MethodResult(
                LIGHTFM_HYBRID,
                "warm",
                ev(_lightfm_scorer(hybrid), test_h, test_t),
                hybrid_valid,
                hybrid.fit_seconds,
                "next-item rows, history 0.5^k",
            )
        )
        if want(BLEND):
            knn_train = fit_item_knn(split.train, n, seq_params)
            tuning = tune_blend_weight(
                hybrid_train.scores,
                knn_train.scores,
                valid_h,
                valid_t,
                config.blend_weights,
                k=k,
            )
            blend_weight = tuning.best_weight
            t0 = time.perf_counter()
            knn = fit_item_knn(test_h, n, seq_params)
            knn_seconds = time.perf_counter() - t0
            results.add(
                MethodResult(
                    BLEND,
                    "warm",
                    ev(_blend_scorer(hybrid, knn, blend_weight), test_h, test_t),
                    tuning.by_weight[blend_weight],
                    hybrid.fit_seconds + knn_seconds,
                    f"LightFM weight {blend_weight}",
                )
            )

    if config.cold_start:
        _cold_start(data, config, blend_weight, results)
    return EvaluationReport(results.items, blend_weight, time.perf_counter() - begin)


def _cold_start(
    data: InteractionData, config: EvaluationConfig, blend_weight: float, out: _Results
) -> None:
    cold = cold_item_split(data.sequences, data.n_items, config.cold_fraction, config.seed)
    n = data.n_items
    h, t = cold.histories, cold.targets
    wanted = config.methods

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    def ev(scorer: Scorer) -> RankingMetrics:
        return evaluate_scorer(scorer, h, t, k=config.k, candidates=cold.cold_items)

    split = "cold items"
    if want(RANDOM):
        out.add(MethodResult(RANDOM, split, ev(_random_scorer(n, config.seed)), None, 0.0))
    if want(POPULARITY):
        pop = _popularity(cold.train, n)
        out.add(
            MethodResult(
                POPULARITY,
                split,
                ev(_constant_scorer(pop)),
                None,
                0.0,
                "all cold items have count 0",
            )
        )
    seq = config.blend.knn
    knn = fit_item_knn(cold.train, n, seq)
    if want(SEQUENTIAL_KNN_NAME):
        out.add(
            MethodResult(
                SEQUENTIAL_KNN_NAME,
                split,
                ev(lambda hh, _u: knn.scores(hh)),
                None,
                0.0,
                "no co-occurrence with cold items",
            )
        )
    if want(ATTRIBUTE_SIM):
        sim = _attribute_similarity(data)
        out.add(
            MethodResult(
                ATTRIBUTE_SIM,
                split,
                ev(lambda hh, _u: (history_matrix(hh, n, decay=0.5) @ sim).toarray()),
                None,
                0.0,
                "history 0.5^k x attribute cosine",
            )
        )
    lfm = config.blend.lightfm
    if want(LIGHTFM_ATTRS):
        m = fit_lightfm(
            cold.train,
            n,
            data.item_attributes,
            data.n_attributes,
            replace(lfm, user_history=False),
            cold_items=cold.cold_items,
        )
        out.add(
            MethodResult(
                LIGHTFM_ATTRS,
                split,
                ev(_lightfm_scorer(m, cold.users)),
                None,
                m.fit_seconds,
                "user identities",
            )
        )
    if want(LIGHTFM_HYBRID) or want(BLEND):
        m = fit_lightfm(
            cold.train, n, data.item_attributes, data.n_attributes, lfm, cold_items=cold.cold_items
        )
        out.add(MethodResult(LIGHTFM_HYBRID, split, ev(_lightfm_scorer(m)), None, m.fit_seconds))
        if want(BLEND):
            out.add(
                MethodResult(
                    BLEND,
                    split,
                    ev(_blend_scorer(m, knn, blend_weight)),
                    None,
                    m.fit_seconds,
                    f"LightFM weight {blend_weight}; kNN is 0 on cold items",
                )
            )


def _random_scorer(n_items: int, seed: int) -> Scorer:
    rng = np.random.default_rng(seed)
    return lambda h, _u: rng.random((len(h), n_items), dtype=np.float32)


def _popularity(histories: Sequence[IntArray], n_items: int) -> NDArray[np.float32]:
    return np.bincount(np.concatenate(histories), minlength=n_items).astype(np.float32)


def _constant_scorer(scores: NDArray[np.float32]) -> Scorer:
    return lambda h, _u: np.broadcast_to(scores, (len(h), len(scores)))


def _lightfm_scorer(model: LightFMEmbeddings, user_map: IntArray | None = None) -> Scorer:
    """`user_map` translates evaluated positions to training users (cold split)."""

    def score(h: Sequence[IntArray], users: IntArray) -> NDArray[np.float32]:
        return model.scores(h, users if user_map is None else user_map[users])

    return score


def _blend_scorer(model: LightFMEmbeddings, knn: ItemKNN, weight: float) -> Scorer:
    return lambda h, _u: blend_scores(model.scores(h), knn.scores(h), weight)


def _attribute_similarity(data: InteractionData) -> sp.csr_matrix:
    """Items x items cosine of binary attribute vectors (content-only cold-start baseline)."""
    a = attribute_matrix(data.item_attributes, data.n_attributes)
    norms = np.sqrt(np.asarray(a.multiply(a).sum(axis=1)).ravel())
    a = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ a
    return (a @ a.T).tocsr()


def format_report(report: EvaluationReport) -> str:
    """Plain-text table: test figures, validation figures where a validation fit ran."""
    head = (
        f"{'split':<11}{'method':<38}{'HR@10':>7}{'NDCG@10':>9}{'AUC':>8}"
        f"{'val HR':>8}{'val NDCG':>9}{'fit s':>7}  note"
    )
    lines = [head, "-" * len(head)]
    for r in report.results:
        val = (
            f"{r.valid.hr:>8.4f}{r.valid.ndcg:>9.4f}" if r.valid is not None else f"{'':>8}{'':>9}"
        )
        lines.append(
            f"{r.split:<11}{r.name:<38}{r.test.hr:>7.4f}{r.test.ndcg:>9.4f}{r.test.auc:>8.4f}"
            f"{val}{r.fit_seconds:>7.1f}  {r.note}"
        )
    scope = [f"warm: {report.n_users('warm')} users, full ranking over all items"]
    if report.n_users("cold items"):
        scope.append(
            f"cold items: {report.n_users('cold items')} users ranking their held-out last "
            "item among the held-out items"
        )
    lines.append(f"(test item; {'; '.join(scope)}; evaluation {report.seconds:.0f} s)")
    return "\n".join(lines)
