"""How each kind of product lays colour on skin, in linear light.

Every blend keeps the face's own shading: `s = Y / Y_ref` (the pixel's luminance over the
region's mean) multiplies the product colour, so a shade painted on a lit lip is the catalog
colour where the lip is evenly lit, darker in its creases, brighter where light catches it.
Finishes reshape `s`: matte flattens it and drops highlights, gloss adds a white specular lobe,
shimmer and metallic add sparkle that is fixed to the face (it comes from a UV texture).
All functions work in place on a float32 linear-RGB box and a float32 coverage `alpha`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numba
import numpy as np

from services.render.linear_light import luminance

__all__ = ["BlendPlan", "apply_plan", "plan_product", "skin_guard"]

_EPS = np.float32(1e-4)
# Finish -> (exponent on the shading ratio, specular gain). Matte's exponent < 1 flattens the
# lip; gloss keeps full shading and adds the most specular.
_FINISH_SHAPE = {
    "matte": (0.55, 0.0),
    "satin": (0.85, 0.25),
    "gloss": (1.0, 1.6),
    "shimmer": (0.9, 0.4),
    "metallic": (0.9, 0.9),
}
_SKIN_PRODUCTS = frozenset(
    {"foundation", "concealer", "blush", "bronzer", "contour", "highlighter"}
)


def _shading(lin: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.float32]:
    """(Y, s = Y / Y_ref, Y_ref) with Y_ref the alpha-weighted mean luminance."""
    y = luminance(lin)
    weight = float(alpha.sum())
    y_ref = np.float32(float(y.ravel() @ alpha.ravel()) / weight if weight > 0 else y.mean())
    y_ref = max(y_ref, _EPS)
    return y, y * np.float32(1.0 / y_ref), y_ref


def _pow(x: np.ndarray, p: float) -> np.ndarray:
    """x ** p for x >= 0, float32 (OpenCV's vectorised pow: several times numpy's)."""
    return cv2.pow(x, p)


def skin_guard(s: np.ndarray) -> np.ndarray:
    """Fades skin products out on pixels far darker than the skin around them (hair over the
    forehead, nostrils, stubble): 0 below 30% of the region's mean luminance, 1 above 50%."""
    return np.clip((s - np.float32(0.30)) * np.float32(5.0), 0.0, 1.0)


def _guided_smooth(y: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with the luminance as its own guide: evens blotches and pores,
    keeps the edges of the nose and jaw (a bilateral of the same radius costs ~10x). Its
    coefficients are smooth, so they are computed at half resolution ("fast guided filter",
    He & Sun 2015) and applied to the full-resolution guide."""
    h, w = y.shape
    small = cv2.resize(y, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    r = max(1, radius // 2)
    ksize = (2 * r + 1, 2 * r + 1)
    mean = cv2.boxFilter(small, -1, ksize)
    var = cv2.boxFilter(small * small, -1, ksize) - mean * mean
    a = var / (var + np.float32(eps))
    b = mean - a * mean
    a = cv2.resize(cv2.boxFilter(a, -1, ksize), (w, h), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(cv2.boxFilter(b, -1, ksize), (w, h), interpolation=cv2.INTER_LINEAR)
    return a * y + b


@dataclass(frozen=True)
class BlendPlan:
    """One product's effect on one face, for any shade: the painted colour is
    `target = colour * gain + colour / max(colour) * tinted + base`, clipped to [0, 1], then
    `lin += (target - lin) * alpha`. Everything but `colour` depends only on the face and the
    product kind, so a catalog re-render plans once and paints every shade from it."""

    alpha: np.ndarray  # (h, w): coverage after guards, before nothing else
    gain: np.ndarray  # (h, w)
    tinted: np.ndarray | None = None  # (h, w): metallic highlights, tinted by the shade
    base: np.ndarray | None = None  # (h, w) white light, or (h, w, 3)


def plan_product(
    lin: np.ndarray,
    alpha: np.ndarray,
    category: str,
    finish: str,
    coverage: float,
    sparkle: np.ndarray | None,
    face_width: float,
) -> BlendPlan:
    """How one product paints `lin` (h, w, 3) where `alpha` (h, w) > 0."""
    y, s, y_ref = _shading(lin, alpha)
    if category in _SKIN_PRODUCTS:
        alpha = alpha * skin_guard(s)
    exponent, spec_gain = _FINISH_SHAPE.get(finish, _FINISH_SHAPE["satin"])

    if category in ("foundation", "concealer"):
        radius = max(2, round(face_width / 45))
        smooth = np.maximum(_guided_smooth(y, radius, 4e-4), _EPS)
        texture = _pow(np.clip(y / smooth, 0.0, 4.0), 1.0 - 0.6 * coverage)
        return BlendPlan(alpha, (smooth / y_ref) * texture)
    if category == "highlighter":
        glow = np.float32(0.55) * y_ref * (np.float32(0.5) + np.minimum(s, 2.0))
        return BlendPlan(alpha, glow, base=lin.copy())
    if category in ("eyeliner", "mascara"):
        return BlendPlan(alpha, _pow(np.minimum(s, 1.0), 0.3))
    if category == "brow":
        # Tint the hairs more than the skin between them: darker pixels take more colour.
        return BlendPlan(alpha * np.clip(np.float32(1.4) - s, 0.35, 1.0), s)
    # Lips, blush, bronzer, contour, eyeshadow: pigment over the skin's own shading.
    gain = _pow(np.clip(s, 0.0, 3.0), exponent) if exponent != 1.0 else np.clip(s, 0.0, 3.0)
    if finish == "matte":
        gain = np.minimum(gain, np.float32(1.12))
    tinted = base = None
    if spec_gain > 0:
        # Specular where the surface already catches light: white (dielectric) for gloss,
        # satin and shimmer, tinted by the product for metallic.
        lobe = np.clip(s - np.float32(1.05), 0.0, None)
        lobe *= np.sqrt(lobe)  # ** 1.5
        spec = np.float32(spec_gain) * y_ref * lobe
        if finish == "metallic":
            tinted = spec
        else:
            base = spec
    if sparkle is not None and finish in ("shimmer", "metallic"):
        glint = sparkle * (np.float32(0.9) * y_ref)
        gain = gain + glint
        base = glint * np.float32(0.35) if base is None else base + glint * np.float32(0.35)
    return BlendPlan(alpha, gain, tinted, base)


def apply_plan(
    lin: np.ndarray, rows: slice, cols: slice, plan: BlendPlan, colour: np.ndarray
) -> None:
    """Paints one shade into `lin[rows, cols]` in place (lin: the whole float32 box): target =
    gain x colour (+ tinted highlight, + white or per-channel base), clipped, then alpha-blended
    over the pixel. One compiled pass; pixels with alpha 0 are not touched at all."""
    c = colour.astype(np.float32)
    tint = c / np.float32(max(float(c.max()), 1e-3))
    base = plan.base
    _blend(
        lin, rows.start or 0, cols.start or 0, plan.alpha, plan.gain,
        plan.tinted if plan.tinted is not None else _NONE_2D,
        base if base is not None and base.ndim == 2 else _NONE_2D,
        base if base is not None and base.ndim == 3 else _NONE_3D,
        c, tint,
    )  # fmt: skip


# Stand-ins for absent terms (one compiled signature for every plan).
_NONE_2D = np.zeros((0, 0), np.float32)
_NONE_3D = np.zeros((0, 0, 3), np.float32)


@numba.njit(cache=True, nogil=True)
def _blend(
    lin: np.ndarray,
    row0: int,
    col0: int,
    alpha: np.ndarray,
    gain: np.ndarray,
    tinted: np.ndarray,
    base: np.ndarray,
    base3: np.ndarray,
    colour: np.ndarray,
    tint: np.ndarray,
) -> None:
    has_tinted, has_base, has_base3 = tinted.size > 0, base.size > 0, base3.size > 0
    height, width = alpha.shape
    for i in range(height):
        for j in range(width):
            a = alpha[i, j]
            if a == 0.0:
                continue
            g = gain[i, j]
            for k in range(3):
                t = g * colour[k]
                if has_tinted:
                    t += tinted[i, j] * tint[k]
                if has_base:
                    t += base[i, j]
                if has_base3:
                    t += base3[i, j, k]
                t = min(max(t, np.float32(0.0)), np.float32(1.0))
                px = lin[row0 + i, col0 + j, k]
                lin[row0 + i, col0 + j, k] = t * a + px * (np.float32(1.0) - a)
