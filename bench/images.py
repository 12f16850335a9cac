"""Benchmark inputs built from the real portrait."""

from __future__ import annotations

import io
from functools import lru_cache
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


# The selfie scene: the portrait's face (the box of its 478 landmarks) ~260x300 px in a 640x480
# frame, as a phone's front camera frames it (DESIGN.md §2: a 262x304 box); `selfie(2)` is the
# same scene at 1280x960, resampled from the original (not upscaled from the 640x480 one).
SELFIE_FACE_BOX = (260, 300)


@lru_cache(maxsize=1)
def _portrait_face_box() -> tuple[float, float, float, float]:
    """x, y, width, height of the portrait's landmark box, measured by our own recon."""
    from services.recon.face_landmarker import FaceLandmarker
    from services.recon.runtime import create_runtime

    runtime = create_runtime()
    try:
        rgb = np.asarray(Image.open(PORTRAIT).convert("RGB"))
        faces = FaceLandmarker(runtime).detect(rgb, max_faces=1)
    finally:
        runtime.close()
    if not faces:
        raise RuntimeError(f"no face found in {PORTRAIT}")
    return faces[0].box


def selfie(scale: int = 1) -> np.ndarray:
    """The portrait scaled so its face box has the area of SELFIE_FACE_BOX x `scale` (its own
    aspect kept), and cropped to (640x480) x `scale` RGB with the face centred."""
    x, y, w, h = _portrait_face_box()
    s = scale * float(np.sqrt(SELFIE_FACE_BOX[0] * SELFIE_FACE_BOX[1] / (w * h)))
    width, height = 640 * scale, 480 * scale
    img = Image.open(PORTRAIT).convert("RGB")
    img = img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS)
    left = round((x + w / 2) * s - width / 2)
    top = round((y + h / 2) * s - height / 2)
    # crop() pads with black where the window leaves the photo (it does not at these sizes).
    return np.asarray(img.crop((left, top, left + width, top + height)))
