"""Shade matching: CIEDE2000 against Sharma et al.'s reference pairs and an independent
textbook implementation, exact nearest shades over the real Pudding catalogue."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bench.bench_recsys import read_pudding_shades
from services.common.color import hex_to_lab
from services.recsys.shade_match import ShadeIndex, as_lab

# Sharma, Wu & Dalal (2005), "The CIEDE2000 colour-difference formula: implementation notes,
# supplementary test data, and mathematical observations", Table 1: pairs 1, 7, 17, 19, 25, 31
# and 34 (L1, a1, b1, L2, a2, b2, ΔE00).
SHARMA_PAIRS = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


def ciede2000_reference(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """Scalar CIEDE2000 written from Sharma et al. (2005) eqs. 1-22, with explicit angles:
    independent of the vectorised implementation under test."""
    l1, a1, b1 = map(float, lab1)
    l2, a2, b2 = map(float, lab2)
    c7 = ((math.hypot(a1, b1) + math.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - math.sqrt(c7 / (c7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1 = math.degrees(math.atan2(b1, a1p)) % 360 if c1 else 0.0
    h2 = math.degrees(math.atan2(b2, a2p)) % 360 if c2 else 0.0
    dh = 0.0
    if c1 * c2:
        dh = h2 - h1
        if dh > 180:
            dh -= 360
        elif dh < -180:
            dh += 360
    big_dh = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh) / 2)
    lm, cm = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        hm = h1 + h2
    elif abs(h1 - h2) <= 180:
        hm = (h1 + h2) / 2
    elif h1 + h2 < 360:
        hm = (h1 + h2 + 360) / 2
    else:
        hm = (h1 + h2 - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hm - 30))
        + 0.24 * math.cos(math.radians(2 * hm))
        + 0.32 * math.cos(math.radians(3 * hm + 6))
        - 0.20 * math.cos(math.radians(4 * hm - 63))
    )
    sl = 1 + 0.015 * (lm - 50) ** 2 / math.sqrt(20 + (lm - 50) ** 2)
    sc = 1 + 0.045 * cm
    sh = 1 + 0.015 * cm * t
    r_c = 2 * math.sqrt(cm**7 / (cm**7 + 25.0**7))
    rt = -r_c * math.sin(math.radians(60 * math.exp(-(((hm - 275) / 25) ** 2))))
    x, y, z = (l2 - l1) / sl, (c2 - c1) / sc, big_dh / sh
    return math.sqrt(x * x + y * y + z * z + rt * y * z)


@pytest.fixture(scope="module")
def catalogue(shared_data: Path) -> tuple[ShadeIndex, list[str]]:
    shades = read_pudding_shades(shared_data)
    assert len(shades) == 6816 + 625
    index = ShadeIndex.from_hex([(s, h) for s, h, _ in shades], [b for *_, b in shades])
    return index, [b for *_, b in shades]


@pytest.mark.parametrize("pair", SHARMA_PAIRS)
def test_delta_e_matches_sharma_reference_pairs(pair: tuple[float, ...]) -> None:
    lab1, lab2, expected = np.array(pair[:3]), np.array(pair[3:6]), pair[6]
    index = ShadeIndex(["s"], [lab2])
    assert index.delta_e(lab1)[0] == pytest.approx(expected, abs=1e-4)
    assert ciede2000_reference(lab1, lab2) == pytest.approx(expected, abs=1e-4)  # the oracle


def brute_force(index: ShadeIndex, skin: np.ndarray) -> np.ndarray:
    return np.array([ciede2000_reference(skin, lab) for lab in index.labs])


def test_nearest_is_the_exact_ciede2000_nearest_over_the_real_catalogue(catalogue) -> None:
    index, _ = catalogue
    rng = np.random.default_rng(1)
    # Skin-like colours: real shades moved a few ΔE, plus a spread over the skin gamut.
    moved = index.labs[rng.choice(len(index), 8)] + rng.normal(0, 3, (8, 3))
    moved[:, 0] = np.clip(moved[:, 0], 0, 100)
    queries = list(moved)
    queries += list(rng.uniform([25, 2, 5], [90, 25, 35], (8, 3)))
    for skin in queries:
        de = brute_force(index, skin)
        order = np.lexsort((np.arange(len(de)), de))[:10]
        got = index.nearest(skin, k=10)
        # Same ΔE sequence, and the same shades except where two ΔE tie to 1e-9.
        np.testing.assert_allclose([m.delta_e for m in got], de[order], atol=1e-6)
        ids = [m.shade_id for m in got]
        expected = [index._ids[i] for i in order]  # noqa: SLF001 - the index's own ids
        mismatched = [i for i, (a, b) in enumerate(zip(ids, expected, strict=True)) if a != b]
        assert all(abs(got[i].delta_e - de[order][i]) < 1e-6 for i in mismatched)
        assert got[0].delta_e == pytest.approx(de.min(), abs=1e-6)


def test_duplicate_swatches_tie_in_index_order(catalogue) -> None:
    index, _ = catalogue
    labs = index.labs
    # The catalogue repeats hex codes: the first duplicated colour must come back in index order.
    _, first, counts = np.unique(labs, axis=0, return_index=True, return_counts=True)
    dup = labs[first[np.argmax(counts)]]
    same = np.flatnonzero(np.all(labs == dup, axis=1))
    got = index.nearest(dup, k=len(same))
    assert [m.delta_e for m in got] == [0.0] * len(same)
    assert [m.shade_id for m in got] == [index._ids[i] for i in same]  # noqa: SLF001


def test_max_per_group_returns_each_brands_best(catalogue) -> None:
    index, brands = catalogue
    skin = np.array([58.0, 14.0, 22.0])
    de = brute_force(index, skin)
    got = index.nearest(skin, k=6, max_per_group=1)
    got_brands = [brands[index._ids.index(m.shade_id)] for m in got]  # noqa: SLF001
    assert len(set(got_brands)) == 6
    best_per_brand = {}
    for i in np.lexsort((np.arange(len(de)), de)):
        best_per_brand.setdefault(brands[i], de[i])
    expected = sorted(best_per_brand.values())[:6]
    np.testing.assert_allclose([m.delta_e for m in got], expected, atol=1e-6)


def test_max_delta_e_drops_far_shades(catalogue) -> None:
    index, _ = catalogue
    got = index.nearest(np.array([55.0, 12.0, 20.0]), k=500, max_delta_e=2.0)
    assert got and len(got) < 500 and all(m.delta_e <= 2.0 for m in got)
    assert index.nearest(np.array([50.0, -60.0, -60.0]), k=5, max_delta_e=2.0) == []


def test_inputs_are_validated_with_a_fix_in_the_message() -> None:
    index = ShadeIndex.from_hex([("a", "#c68642"), ("b", "#8d5524")])
    np.testing.assert_allclose(index.labs[0], hex_to_lab("#c68642"))
    assert index.nearest("#c68642", k=1)[0].shade_id == "a"
    with pytest.raises(ValueError, match="outside 0..100"):
        as_lab([198, 134, 66])  # sRGB bytes, not Lab
    with pytest.raises(ValueError, match="#rrggbb"):
        as_lab("c6864")
    with pytest.raises(ValueError, match="shape"):
        ShadeIndex(["a"], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="groups"):
        index.nearest("#c68642", max_per_group=1)
    with pytest.raises(ValueError, match="k must be"):
        index.nearest("#c68642", k=0)
