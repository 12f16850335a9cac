"""Image bytes in, RGB pixels out — and the cheap header checks the gateway runs before any
work is queued. Pillow does the parsing: it reads headers without decoding pixels, refuses
truncated files, applies EXIF orientation and converts every mode (grey, RGBA, 16-bit, CMYK).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from services.common.errors import InvalidImageError

# Formats we accept, by their magic bytes; the content type we report for each.
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
ACCEPTED = "JPEG, PNG or WebP"
MIN_SIDE = 32
# Never let Pillow's own bomb check warn or fire first: ours runs on the header with the
# configured limit and a clear message.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "JPEG" | "PNG" | "WEBP"
    content_type: str
    width: int  # as stored, before EXIF orientation
    height: int


@dataclass(frozen=True)
class DecodedImage:
    rgb: np.ndarray  # (H, W, 3) uint8, upright
    # Size of the upright original: what callers' coordinates refer to.
    width: int
    height: int
    # rgb pixels per original pixel (< 1 when decoded at reduced size).
    scale: float


def sniff_format(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _looks_truncated(fmt: str, data: bytes) -> bool:
    """Cheap end-of-stream checks; the decoder catches the rest."""
    tail = data[-4096:]
    if fmt == "JPEG":
        return b"\xff\xd9" not in tail
    if fmt == "PNG":
        return b"IEND" not in tail
    if fmt == "WEBP":
        return int.from_bytes(data[4:8], "little") + 8 > len(data)
    return False


def inspect_image(data: bytes, max_pixels: int) -> ImageInfo:
    """Validates the header without decoding pixels. Raises InvalidImageError saying what to fix."""
    if not data:
        raise InvalidImageError(f"image.data is empty: send the bytes of a {ACCEPTED} photo")
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidImageError(f"image.data is not a {ACCEPTED} image")
    if _looks_truncated(fmt, data):
        raise InvalidImageError(
            f"image.data is a truncated {fmt} file ({len(data)} bytes): send the whole file"
        )
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Exception:  # Pillow raises many types for garbage; the message is what matters.
        raise InvalidImageError(
            f"image.data is a corrupt {fmt} file: its header cannot be read"
        ) from None
    if width * height > max_pixels:
        raise InvalidImageError(
            f"image declares {width}x{height} pixels ({width * height / 1e6:.1f} MP); "
            f"the limit is {max_pixels / 1e6:.0f} MP: downscale it before sending"
        )
    if min(width, height) < MIN_SIDE:
        raise InvalidImageError(
            f"image is {width}x{height} pixels; faces need at least {MIN_SIDE} px on each side"
        )
    return ImageInfo(fmt, CONTENT_TYPES[fmt], width, height)


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit grey: rescale to 8 bits instead of letting convert() clip at 255.
        arr = np.asarray(img, dtype=np.float32)
        peak = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        grey = np.clip(arr * (255.0 / peak), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        # Transparent pixels carry arbitrary colour: flatten onto mid-grey, a neutral
        # background for both the detector and the white-balance estimate.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")  # L, P, CMYK, YCbCr, F...


def decode_image(data: bytes, max_pixels: int, max_side: int = 0) -> DecodedImage:
    """Decodes to upright RGB. With `max_side`, large JPEGs are decoded at a reduced size by the
    JPEG decoder itself (DCT scaling), which is several times faster than full decode + resize.
    The header is parsed once, here: the gateway's `inspect_image` already refused what it can
    at the edge; the size limit is checked again before pixels are allocated (defence in
    depth against a decompression bomb)."""
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidImageError(f"image.data is not a {ACCEPTED} image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels:
                raise InvalidImageError(
                    f"image declares {width}x{height} pixels; the limit is "
                    f"{max_pixels / 1e6:.0f} MP: downscale it before sending"
                )
            orientation = img.getexif().get(0x0112, 1)
            swapped = orientation in (5, 6, 7, 8)
            full_w, full_h = (height, width) if swapped else (width, height)
            if max_side and fmt == "JPEG" and max(width, height) > 2 * max_side:
                img.draft("RGB", (max_side, max_side))
            img.load()
            img = ImageOps.exif_transpose(img) or img
            rgb = np.asarray(_to_rgb(img), dtype=np.uint8)
    except InvalidImageError:
        raise
    except Exception as exc:
        raise InvalidImageError(
            f"image.data is a corrupt or truncated {fmt} file "
            f"({type(exc).__name__}): re-export it and send the whole file"
        ) from None
    scale = rgb.shape[1] / full_w
    return DecodedImage(rgb=np.ascontiguousarray(rgb), width=full_w, height=full_h, scale=scale)


# Encoder settings: JPEG/WebP q90 (visually lossless for try-on), PNG at low compression
# because encode time is on the interactive path.
_ENCODE_PARAMS = {
    "jpeg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90]),
    "png": (".png", [cv2.IMWRITE_PNG_COMPRESSION, 1]),
    "webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 90]),
}


def encode_image(rgb: np.ndarray, fmt: str) -> bytes:
    """RGB uint8 to JPEG/PNG/WebP bytes."""
    ext, params = _ENCODE_PARAMS[fmt]
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError(f"{fmt} encoding failed")
    return buf.tobytes()
