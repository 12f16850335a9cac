"""8-bit sRGB <-> linear light for the render hot path, by table.

Compositing happens in linear light (light adds and multiplies there, so shading and coverage
behave like paint on a lit surface). The exact transfer curve lives in services.common.color;
here it is baked into two tables: 256 entries for decoding (one cv2.LUT over a box) and 65,536
for encoding (one gather). The encoder's step is 1/65535 in linear light, at most 0.05 of an
8-bit level anywhere on the curve, so it rounds like the exact curve except within 0.05 of a
half level.
"""

from __future__ import annotations

import cv2
import numpy as np

from services.common.color import hexes_to_rgb, linear_to_srgb, srgb_to_linear

__all__ = [
    "ENCODE_STEPS",
    "LUMA_WEIGHTS",
    "SRGB8_TO_LINEAR",
    "LINEAR_TO_SRGB8",
    "hex_to_linear",
    "linear_to_srgb8",
    "luminance",
    "srgb8_to_linear",
]

ENCODE_STEPS = 65536
SRGB8_TO_LINEAR: np.ndarray = srgb_to_linear(np.arange(256, dtype=np.uint8)).astype(np.float32)
LINEAR_TO_SRGB8: np.ndarray = np.round(
    np.clip(linear_to_srgb(np.linspace(0.0, 1.0, ENCODE_STEPS)), 0.0, 1.0) * 255.0
).astype(np.uint8)
# Rec. 709 / sRGB luminance (the Y row of the sRGB -> XYZ matrix).
LUMA_WEIGHTS: np.ndarray = np.array([0.2126729, 0.7151522, 0.0721750], dtype=np.float32)
_LUMA_MATRIX = LUMA_WEIGHTS.reshape(1, 3)


def srgb8_to_linear(rgb8: np.ndarray) -> np.ndarray:
    """uint8 sRGB (..., 3) -> float32 linear light 0..1, same shape."""
    return cv2.LUT(rgb8, SRGB8_TO_LINEAR)


def linear_to_srgb8(linear: np.ndarray) -> np.ndarray:
    """float32 linear light (clipped to 0..1) -> uint8 sRGB, same shape."""
    index = np.clip(linear, 0.0, 1.0) * np.float32(ENCODE_STEPS - 1)
    index += np.float32(0.5)
    return np.take(LINEAR_TO_SRGB8, index.astype(np.uint16))


def luminance(linear: np.ndarray) -> np.ndarray:
    """float32 linear RGB (h, w, 3) -> relative luminance Y (h, w) float32."""
    return cv2.transform(linear, _LUMA_MATRIX)


def hex_to_linear(colour: str) -> np.ndarray:
    """'#rrggbb' -> linear-light RGB (3,) float32 (through the same 8-bit table)."""
    return SRGB8_TO_LINEAR[hexes_to_rgb([colour])[0]]
