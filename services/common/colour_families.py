"""Colour family of a shade, derived from its hex in CIELAB/LCh (D65). Rules, in order:

Face-base categories (foundation, concealer, bronzer, contour) are named by depth, L*:
  fair >= 80 > light >= 70 > medium >= 58 > tan >= 45 > deep.
  (On the 6,816 real foundation shades this puts roughly a quarter in each of fair and light and
  the rest in medium/tan/deep, and follows the Monk scale: tones 1-5 fair/light, 6 tan, 7-10 deep.)

Every other category is named by hue h (degrees), chroma C and lightness L:
  1. neutrals, C < 8:            black (L < 20), white (L > 85), grey otherwise
  2. cool hues, 105 <= h < 330:  green (h < 200), blue (h < 290), purple (L >= 48) or plum
  3. warm hues, muted (C < 42):
       pinkish h >= 330 or h < 15: pink (L >= 55), berry (L >= 40), plum
       otherwise:                  taupe (C < 16 and 35 <= L < 70),
                                   nude (L >= 45 for rosy h < 40, L >= 52 for yellower), brown
  4. warm hues, vivid (C >= 42):
       330 <= h < 345:   plum (L < 48) else pink
       345 <= h or h < 15: berry (L < 42) else pink
       15 <= h < 40:     red, but coral when L >= 58 (pink when also h < 20)
       40 <= h < 70:     orange (C >= 55), nude (L >= 52), brown
       70 <= h < 105:    gold (L >= 60) else brown

The lip families of the brief (red, pink, nude, coral, berry, plum, brown, orange) all come out
of these rules; eye and brow products add black, grey, taupe, gold, green, blue and purple.
The thresholds were set by eye on the 287 real lipsticks and are approximate at the borders
(a coral-red is one or the other), which is what a shopper's filter needs, not more.
"""

from __future__ import annotations

import math

DEPTH_CATEGORIES = frozenset({"foundation", "concealer", "bronzer", "contour"})
DEPTH_FAMILIES = ("fair", "light", "medium", "tan", "deep")
HUE_FAMILIES = (
    "red", "pink", "nude", "coral", "berry", "plum", "brown", "orange",
    "black", "white", "grey", "taupe", "gold", "green", "blue", "purple",
)  # fmt: skip
ALL_FAMILIES = frozenset(DEPTH_FAMILIES + HUE_FAMILIES)


def depth_family(lab_l: float) -> str:
    if lab_l >= 80:
        return "fair"
    if lab_l >= 70:
        return "light"
    if lab_l >= 58:
        return "medium"
    if lab_l >= 45:
        return "tan"
    return "deep"


def hue_family(lab_l: float, lab_a: float, lab_b: float) -> str:
    c = math.hypot(lab_a, lab_b)
    h = math.degrees(math.atan2(lab_b, lab_a)) % 360.0
    if c < 8:
        return "black" if lab_l < 20 else "white" if lab_l > 85 else "grey"
    if 105 <= h < 330:
        if h < 200:
            return "green"
        if h < 290:
            return "blue"
        return "purple" if lab_l >= 48 else "plum"
    pinkish = h >= 330 or h < 15
    if c < 42:
        if pinkish:
            return "pink" if lab_l >= 55 else "berry" if lab_l >= 40 else "plum"
        if c < 16 and 35 <= lab_l < 70:
            return "taupe"
        # Rosy nudes (muted rose-browns) are darker than beige ones and still read as nude.
        return "nude" if lab_l >= (45 if h < 40 else 52) else "brown"
    if 330 <= h < 345:
        return "plum" if lab_l < 48 else "pink"
    if pinkish:
        return "berry" if lab_l < 42 else "pink"
    if h < 40:
        if lab_l >= 58:
            return "pink" if h < 20 else "coral"
        return "red"
    if h < 70:
        if c >= 55:
            return "orange"
        return "nude" if lab_l >= 52 else "brown"
    return "gold" if lab_l >= 60 else "brown"


def colour_family(category: str, lab: tuple[float, float, float]) -> str:
    """The family a shade of `category` with CIELAB `lab` is filed under (see module doc)."""
    if category in DEPTH_CATEGORIES:
        return depth_family(lab[0])
    return hue_family(*lab)
