"""How well a shade suits a shopper's skin, from the face alone: what makes cold start work.

Base products are matched by colour distance (CIEDE2000) to a target derived from the skin:
foundation the skin itself, concealer a step lighter, bronzer and contour a few steps deeper.
Colour products follow the colour-analysis rules stylists use: warm undertones carry coral,
orange-red, peach and gold hues; cool undertones carry pink, berry, blue-red and mauve; neutral
both; deeper skin carries deeper, richer shades. Each score is in [0, 1] with a short reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from services.common.color import ciede2000

__all__ = ["SkinProfile", "affinity", "BASE_CATEGORIES"]

BASE_CATEGORIES = frozenset({"foundation", "concealer", "bronzer", "contour"})
# Target = skin Lab + this offset (L*, a*, b*), per base category.
_BASE_TARGET_OFFSET = {
    "foundation": (0.0, 0.0, 0.0),
    "concealer": (4.0, -0.5, 0.0),  # about one shade lighter: brightens under the eyes
    "bronzer": (-10.0, 1.5, 3.0),  # a few shades deeper and warmer
    "contour": (-12.0, 0.5, 0.5),  # deeper, neutral (a shadow, not a tan)
}
_BASE_REASON = {
    "foundation": "matches your skin",
    "concealer": "one shade lighter than your skin: brightens",
    "bronzer": "a few shades deeper than your skin: warms",
    "contour": "a few shades deeper than your skin: sculpts",
}
# ΔE00 at which a base product's score halves (~3 reads as a noticeably different shade).
_BASE_DELTA_E_HALF = 3.0
# Hue bands (CIELAB hue angle, degrees) by undertone.
_WARM_HUE = 50.0  # coral / peach / gold
_COOL_HUE = 0.0  # pink / berry / blue-red (wraps through 360)
_HUE_WIDTH = 35.0
_NO_SKIN_SCORE = 0.5  # nothing known about the face: no preference


@dataclass(frozen=True, slots=True)
class SkinProfile:
    lab: tuple[float, float, float] | None = None
    monk_bucket: int | None = None
    undertone: str | None = None  # "warm" | "neutral" | "cool"

    @property
    def known(self) -> bool:
        return self.lab is not None or self.monk_bucket is not None or self.undertone is not None


def _hue_deg(lab: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0


def _hue_closeness(hue: NDArray[np.float64], centre: float) -> NDArray[np.float64]:
    diff = np.abs((hue - centre + 180.0) % 360.0 - 180.0)
    return np.exp(-0.5 * (diff / _HUE_WIDTH) ** 2)


Reasons = Callable[[int], str]


def affinity(
    skin: SkinProfile, category: str, shade_labs: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], Reasons]:
    """(score in [0, 1], ΔE00 to the skin target (0 where not a base product), the reason
    for shade i) for each shade (N, 3) of one category. Reasons are made on demand: a
    foundation catalog has thousands of shades and only a handful are shown."""
    n = len(shade_labs)
    zeros = np.zeros(n)
    if not skin.known or n == 0:
        return np.full(n, _NO_SKIN_SCORE), zeros, lambda i: "popular pick"
    if category in BASE_CATEGORIES and skin.lab is not None:
        target = np.asarray(skin.lab) + np.asarray(_BASE_TARGET_OFFSET[category])
        de = ciede2000(target, shade_labs)
        score = 1.0 / (1.0 + (de / _BASE_DELTA_E_HALF) ** 2)
        reason = _BASE_REASON[category]
        return score, de, lambda i: f"{reason} (ΔE {de[i]:.1f})"
    if category in BASE_CATEGORIES:  # a skin of unknown colour: nothing to match
        return np.full(n, _NO_SKIN_SCORE), zeros, lambda i: "popular pick"

    hue = _hue_deg(shade_labs)
    chroma = np.hypot(shade_labs[:, 1], shade_labs[:, 2])
    warm, cool = _hue_closeness(hue, _WARM_HUE), _hue_closeness(hue, _COOL_HUE)
    # Achromatic shades (black liner, grey-brown brow, clear gloss) suit every undertone.
    neutral_colour = np.clip(1.0 - chroma / 15.0, 0.0, 1.0)
    if skin.undertone == "warm":
        harmony, words = warm, "suits warm undertones"
    elif skin.undertone == "cool":
        harmony, words = cool, "suits cool undertones"
    else:
        harmony, words = np.maximum(warm, cool) * 0.9, "suits neutral undertones"
    harmony = np.maximum(harmony, neutral_colour * 0.8)
    depth = np.ones(n)
    depth_words = ""
    if skin.monk_bucket is not None:
        # Deeper skin wears deeper shades: the ideal L* falls from ~60 (Monk 1) to ~30 (Monk 10).
        ideal_l = 63.0 - 3.3 * skin.monk_bucket
        depth = np.exp(-0.5 * ((shade_labs[:, 0] - ideal_l) / 18.0) ** 2)
        depth_words = (
            "flatters fair skin" if skin.monk_bucket <= 3
            else "flatters deep skin" if skin.monk_bucket >= 7
            else "flatters medium skin"
        )  # fmt: skip
    score = 0.65 * harmony + 0.35 * depth
    return (
        score,
        zeros,
        lambda i: words if harmony[i] >= depth[i] or not depth_words else depth_words,
    )
