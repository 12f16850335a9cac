"""Product swatch images: a small PNG per product, rendered once when the product is written.

A 96x96 rounded tile split into vertical stripes, one per shade (up to 8, evenly sampled across
the product's shades so a 40-shade foundation shows its range light to dark). Each stripe is
shaded to suggest its finish: matte flat, satin a soft sheen, gloss a specular highlight,
shimmer sparkles, metallic a strong gradient. Rendering is deterministic (sparkles are seeded
from the colours), so an unchanged product gives byte-identical PNGs.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import cv2
import numpy as np

from services.common.color import linear_to_srgb, parse_hex, srgb_to_linear

SWATCH_SIZE = 96
MAX_STRIPES = 8
_CORNER_RADIUS = 16.0


def _rounded_mask(size: int, radius: float) -> np.ndarray:
    """Anti-aliased alpha (0..1) of a rounded square: signed distance to its edge."""
    c = (np.arange(size, dtype=np.float64) + 0.5)[None, :]
    r = c.T
    half = size / 2.0
    qx = np.abs(c - half) - (half - radius)
    qy = np.abs(r - half) - (half - radius)
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    inside = np.minimum(np.maximum(qx, qy), 0.0)
    return np.clip(0.5 - (outside + inside - radius), 0.0, 1.0)


_ALPHA = _rounded_mask(SWATCH_SIZE, _CORNER_RADIUS)
_Y = (np.arange(SWATCH_SIZE, dtype=np.float64)[:, None] + 0.5) / SWATCH_SIZE  # 0 top .. 1 bottom
_X = (np.arange(SWATCH_SIZE, dtype=np.float64)[None, :] + 0.5) / SWATCH_SIZE


def _sample(items: Sequence[tuple[str, str]], k: int) -> list[tuple[str, str]]:
    if len(items) <= k:
        return list(items)
    idx = np.linspace(0, len(items) - 1, k).round().astype(int)
    return [items[i] for i in idx]


def _shade(
    linear_rgb: np.ndarray, finish: str, x: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(H, W, 3) linear RGB for one stripe of width len(x) columns."""
    y = _Y
    base = np.broadcast_to(linear_rgb, (SWATCH_SIZE, x.shape[1], 3)).copy()
    if finish == "matte":
        gain = 1.03 - 0.06 * y
        return base * gain[..., None]
    if finish == "metallic":
        gain = 1.35 - 0.7 * np.clip(0.6 * y + 0.4 * x, 0, 1)
        band = np.exp(-(((y - 0.3) / 0.08) ** 2)) * 0.35
        return base * gain[..., None] + band[..., None]
    gain = 1.08 - 0.16 * y
    out = base * gain[..., None]
    if finish == "satin":
        sheen = np.exp(-(((y - 0.28) / 0.16) ** 2)) * 0.10
        return out + sheen[..., None] * (0.5 + base)
    if finish == "gloss":
        spec = np.exp(-(((y - 0.22) / 0.05) ** 2 + ((x - 0.3) / 0.35) ** 2)) * 0.75
        return out * (1 - spec[..., None]) + spec[..., None]
    if finish == "shimmer":
        sparkle = (rng.random(out.shape[:2]) > 0.93) * rng.uniform(0.25, 0.6, out.shape[:2])
        return out * (1 - sparkle[..., None]) + sparkle[..., None] * np.maximum(base, 0.6)
    return out


def render_swatch_png(shades: Sequence[tuple[str, str]]) -> bytes:
    """PNG bytes (RGBA, 96x96) for a product's shades given as (hex, finish) in order."""
    if not shades:
        raise ValueError("a swatch needs at least one shade")
    picked = _sample(shades, MAX_STRIPES)
    seed = zlib.crc32("".join(h + f for h, f in picked).encode())
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, SWATCH_SIZE, len(picked) + 1).round().astype(int)
    linear = np.empty((SWATCH_SIZE, SWATCH_SIZE, 3))
    for (hex_colour, finish), x0, x1 in zip(picked, edges[:-1], edges[1:], strict=True):
        rgb = srgb_to_linear(np.array(parse_hex(hex_colour), dtype=np.uint8))
        linear[:, x0:x1] = _shade(rgb, finish, _X[:, x0:x1], rng)
    srgb8 = np.clip(linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255.0 + 0.5, 0, 255).astype(
        np.uint8
    )
    alpha = (_ALPHA * 255.0 + 0.5).astype(np.uint8)
    bgra = np.dstack([srgb8[..., ::-1], alpha])
    ok, buf = cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:  # pragma: no cover - cv2 only fails here on a broken build
        raise RuntimeError("OpenCV could not encode the swatch PNG")
    return buf.tobytes()
