"""Benchmark inputs built from the real portrait."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "tests" / "data" / "obama.jpg"


def portrait_640x480() -> np.ndarray:
    """The portrait letterboxed into 640x480 RGB: a selfie-size face (~230 px wide)."""
    img = Image.open(PORTRAIT).convert("RGB")
    img.thumbnail((640, 480), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (640, 480), (128, 128, 128))
    canvas.paste(img, ((640 - img.width) // 2, (480 - img.height) // 2))
    return np.asarray(canvas)


def jpeg_variants(rgb: np.ndarray, count: int, quality: int = 90) -> list[bytes]:
    """The same pixels under `count` different byte strings (a JPEG comment differs), so each
    request misses the face cache but does identical work."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    data = buf.getvalue()
    out = []
    for i in range(count):
        comment = f"bench-{i}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        out.append(data[:2] + segment + data[2:])
    return out
