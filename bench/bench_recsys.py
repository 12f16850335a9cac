"""Recommender and shade matching: the offline evaluation table (warm and cold start) on Amazon
Beauty, training time of the served model, single-user recommend latency, save/load, and
foundation shade matching latency over the real ~7,400-shade catalogue. Figures printed, never
asserted (`python -m bench bench.bench_recsys`)."""

from __future__ import annotations

import csv
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from services.common.color import MONK_SKIN_TONES_HEX, MONK_SKIN_TONES_LAB
from services.recsys.blend_recommender import BlendRecommender, train_on_indices
from services.recsys.evaluation import evaluate, format_report
from services.recsys.interactions import load_amazon_beauty
from services.recsys.shade_match import ShadeIndex

ROOT = Path(__file__).resolve().parents[1]
FOUNDATION_CSV = Path("catalog") / "pudding_foundation" / "allShades.csv"
MAKEUP_SHADES_CSV = Path("catalog") / "pudding_makeup_shades" / "shades.csv"


def shared_data_dir() -> Path:
    path = Path(os.environ.get("TRYON_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        raise RuntimeError(f"shared data not found at {path}: set TRYON_SHARED_DATA")
    return path


def read_pudding_shades(shared_data: Path) -> list[tuple[str, str, str]]:
    """(shade id, '#rrggbb', brand) for every foundation shade of both Pudding catalogues,
    read straight from the CSVs (the product catalogue store is not needed here)."""
    shades: list[tuple[str, str, str]] = []
    with (shared_data / FOUNDATION_CSV).open(newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            name = row["specific"] if row["specific"] != "NA" else row["name"]
            shade_id = f"allShades:{i}:{row['brand']}/{row['product']}/{name}"
            shades.append((shade_id, row["hex"], row["brand"]))
    with (shared_data / MAKEUP_SHADES_CSV).open(newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            shade_id = f"shades:{i}:{row['brand']}/{row['product']}"
            shades.append((shade_id, "#" + row["hex"], row["brand"]))
    return shades


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def bench_evaluation(shared_data: Path) -> None:
    data = load_amazon_beauty(shared_data)
    print(
        f"\nAmazon Beauty: {data.n_users} users, {data.n_items} items, "
        f"{data.n_interactions} interactions, {data.n_attributes} attributes; leave-one-out, "
        f"tuned on the validation item, test item reported ({os.cpu_count()} cores)"
    )
    report = evaluate(data, log=lambda line: print("  " + line, flush=True))
    print()
    print(format_report(report))


def bench_serving(shared_data: Path) -> None:
    data = load_amazon_beauty(shared_data)
    begin = time.perf_counter()
    model = train_on_indices(
        data.sequences, data.raw_item_ids, data.item_attributes, data.n_attributes
    )
    train_s = time.perf_counter() - begin
    print(
        f"\nServed model (blend, LightFM {model.lightfm.params.epochs} epochs, "
        f"{model.lightfm.params.num_threads} threads) trained on all "
        f"{data.n_interactions} interactions: {train_s:.1f} s "
        f"(LightFM {model.lightfm.fit_seconds:.1f} s)"
    )
    rng = np.random.default_rng(0)
    users = rng.choice(data.n_users, size=300, replace=False)
    histories = [[data.raw_item_ids[i] for i in data.sequences[u]] for u in users]
    model.recommend(histories[0], k=10)  # warm-up
    times = []
    for h in histories:
        t0 = time.perf_counter()
        model.recommend(h, k=10)
        times.append((time.perf_counter() - t0) * 1e3)
    print(
        f"  recommend(history, k=10), one user over {data.n_items} items: "
        f"p50 {pct(times, 50):.2f} ms, p99 {pct(times, 99):.2f} ms"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = model.save(tmp)
        save_s = time.perf_counter() - t0
        size_mb = sum(f.stat().st_size for f in path.iterdir()) / 1e6
        t0 = time.perf_counter()
        loaded = BlendRecommender.load_latest(tmp)
        load_s = time.perf_counter() - t0
        same = loaded.recommend(histories[0], k=10) == model.recommend(histories[0], k=10)
    print(
        f"  save {save_s * 1e3:.0f} ms, load {load_s * 1e3:.0f} ms, {size_mb:.1f} MB on disk; "
        f"loaded model recommends the same: {same}"
    )


def bench_shade_match(shared_data: Path) -> None:
    shades = read_pudding_shades(shared_data)
    t0 = time.perf_counter()
    index = ShadeIndex.from_hex([(sid, hx) for sid, hx, _ in shades], [b for *_, b in shades])
    build_ms = (time.perf_counter() - t0) * 1e3
    # Query colours: real shades perturbed by a few ΔE, as a measured skin colour would be.
    rng = np.random.default_rng(0)
    queries = index.labs[rng.choice(len(index), 300)] + rng.normal(0, 2.0, (300, 3))
    queries[:, 0] = np.clip(queries[:, 0], 0.0, 100.0)
    index.nearest(queries[0], k=5)  # warm-up
    for label, kwargs in (("k=5", {}), ("k=5, <= 1 per brand", {"max_per_group": 1})):
        times = []
        for q in queries:
            t0 = time.perf_counter()
            index.nearest(q, k=5, **kwargs)
            times.append((time.perf_counter() - t0) * 1e3)
        print(
            f"  nearest ({label}) over {len(index)} shades: p50 {pct(times, 50):.2f} ms, "
            f"p99 {pct(times, 99):.2f} ms"
        )
    best = index.nearest(queries[0], k=3, max_per_group=1)
    print(
        f"  index build from hex {build_ms:.0f} ms; example: "
        + ", ".join(f"{m.shade_id.split(':', 2)[2]} ΔE00 {m.delta_e:.2f}" for m in best)
    )


def bench_shade_fairness(shared_data: Path) -> None:
    """Does the catalogue serve every skin tone? For each Monk Skin Tone reference colour: the
    nearest shade's ΔE00, the 5th nearest, how many shades (and brands) lie within ΔE00 3."""
    shades = read_pudding_shades(shared_data)
    index = ShadeIndex.from_hex([(sid, hx) for sid, hx, _ in shades], [b for *_, b in shades])
    brands = np.array([b for *_, b in shades], dtype=object)
    print("\nShade-match fairness per Monk bucket (reference tone as the skin; whole catalogue)")
    print(
        f"  {'Monk':>4s} {'tone':8s} {'best ΔE':>8s} {'5th ΔE':>7s} {'<= 2':>6s} {'<= 3':>6s} "
        f"{'brands <= 3':>11s}"
    )
    tones = zip(MONK_SKIN_TONES_HEX, MONK_SKIN_TONES_LAB, strict=True)
    for bucket, (hexcode, lab) in enumerate(tones, 1):
        de = index.delta_e(lab)
        fifth = np.partition(de, 4)[4]
        near = de <= 3.0
        print(
            f"  {bucket:4d} {hexcode:8s} {de.min():8.2f} {fifth:7.2f} {(de <= 2.0).sum():6d} "
            f"{near.sum():6d} {len(set(brands[near])):11d}"
        )


def main() -> None:
    shared = shared_data_dir()
    print("\nFoundation shade matching (CIEDE2000, exact, whole catalogue)")
    bench_shade_match(shared)
    bench_shade_fairness(shared)
    bench_serving(shared)
    bench_evaluation(shared)


if __name__ == "__main__":
    main()
