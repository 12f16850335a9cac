"""Skin tone of one face, measured through its 478-point mesh.

Pipeline (inside the face's box; ~1.2-1.7 ms for a 640x480 selfie with a ~240 px face, 1 core):

1. Sample: cheek and forehead polygons of mesh landmarks, minus the eyes, brows, lips and the
   lower nose (nostrils), each excluded with a margin that scales with the face, on a grid of
   ~2,500 pixels. The polygons stay inside the face oval, away from hairline, beard and jaw.
2. White balance, from two independent estimates of the illuminant's cast (log-chromaticity):
   - background: shades of grey (Finlayson & Trezzi 2004, Minkowski p = 6) in linear RGB on a
     subsample of the image *outside* the face oval. Skin is not grey, so it stays out. It
     abstains on tight face crops, where "outside the face" is hair, neck and shoulders, which
     grey-world reads as a cast (blonde hair = yellow light);
   - sclera: the whites of the eyes, the one near-neutral surface every selfie has, lit like
     the skin (relative to their own slightly warm colour in uncast photos).
   When both exist, only the cast they agree on is corrected; a lone estimate gets a wider dead
   zone. Casts below the dead zone are left alone (scene content and noise look like small
   casts), larger ones are removed up to a cap, as von Kries gains that keep a grey's luminance,
   and never so far that the face leaves the hue range of real skin. On our real photos a
   neutral photo moves a median 0 (max ~1.5) dE00, and a (1.15, 1, 0.85) cast is cut to ~40%.
3. Reject: clipped (specular / overexposed) and near-black pixels; a whole region whose colour
   disagrees with the two others (a fringe over the forehead, a cheek in deep shadow); then
   robust bands around the median in L* (shadows, highlights) and a*, b* (strands, stubble).
4. Report the per-channel median in CIELAB, its hex, ITA, Monk bucket and undertone; confidence
   is the fraction of sampled pixels that passed, times how much of the regions lies inside the
   image, times a resolution factor that drops for tiny faces.

Constants below carry the figures (from our real data) that set them; tests/recon/
test_skin_tone.py checks the result against human skin masks and colour casts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from face_topology import mesh as fm
from services.common.color import (
    Undertone,
    ciede2000,
    ita_degrees,
    lab_to_hex,
    linear_rgb_to_lab,
    monk_bucket,
    srgb8_pixels_to_lab_planar,
    srgb_to_lab,
    srgb_to_linear,
    undertone,
)

__all__ = [
    "FOREHEAD_POLYGON",
    "LEFT_CHEEK_POLYGON",
    "RIGHT_CHEEK_POLYGON",
    "SkinTone",
    "estimate_white_balance_gains",
    "measure_skin_tone",
    "skin_sample_mask",
]

# Sampling polygons (mesh landmark loops). Chosen on MediaPipe's output for real faces: each cheek
# spans the malar area from below the lower lid (117-119) to above the nasolabial fold (36 / 266)
# and out towards the ear (123 / 352); the forehead band runs from the brows' upper edge up to the
# row 104-69-108-151-337-299-333, below the hairline and most fringes. Left/right are mirror images
# (checked by reflecting real landmarks across the face midline).
RIGHT_CHEEK_POLYGON: tuple[int, ...] = (117, 118, 119, 100, 36, 205, 187, 123, 116)
LEFT_CHEEK_POLYGON: tuple[int, ...] = (346, 347, 348, 329, 266, 425, 411, 352, 345)
FOREHEAD_POLYGON: tuple[int, ...] = (
    104, 69, 108, 151, 337, 299, 333, 334, 296, 336, 9, 107, 66, 105,
)  # fmt: skip
_REGIONS = (RIGHT_CHEEK_POLYGON, LEFT_CHEEK_POLYGON, FOREHEAD_POLYGON)
_EXCLUDED = (
    fm.LEFT_EYE_LOOP,
    fm.RIGHT_EYE_LOOP,
    fm.LEFT_EYEBROW_LOOP,
    fm.RIGHT_EYEBROW_LOOP,
    fm.LIPS_OUTER_LOOP,
    fm.NOSE_LOWER_LOOP,
)
_REGION_INDEX = np.unique(np.concatenate([np.asarray(p) for p in _REGIONS]))

# Exclusion margin around eyes/brows/lips/nostrils, as a fraction of the inter-ocular distance
# (outer eye corners): ~4 px on a selfie face, enough to clear lashes and brow hairs.
_EXCLUDE_MARGIN_IOD = 0.04
# Faces whose outer eye corners are this far apart (px) or more get the full resolution factor;
# below it JPEG blocks and blur mix skin with its surroundings and few pixels remain.
_FULL_CONFIDENCE_IOD_PX = 40.0

_MAX_SAMPLES = 2500
# Region occlusion check (see _unoccluded): CIEDE2000 between region medians. Uncovered cheeks
# and forehead of our 43 real faces differ by up to 12 (one side lit, one shaded); a fringe
# over the forehead (MT vRX916) by 53, a cheek in deep shadow on a turned, side-lit face by 31
# (dropping it is right: shadow is not skin colour).
_MIN_REGION_PIXELS = 30
_REGION_OUTLIER_DE = 15.0
_REGION_AGREE_DE = 8.0

# Pixel gates. Any channel >= 250 is clipped (specular highlight or overexposure): its colour is
# not the skin's. Max channel < 12 is too dark to carry a colour.
_CLIPPED_U8 = 250
_DARK_U8 = 12
# Robust bands around the median, in MAD-derived sigmas (1.4826 * MAD), with floors so an
# unusually uniform patch is not over-trimmed. L* is trimmed harder (shading is the main
# nuisance); a*/b* only lose clear outliers.
_BAND_SIGMAS = np.array([2.0, 3.0, 3.0])  # L*, a*, b*
_SIGMA_FLOORS = np.array([1.5, 1.0, 1.0])

# White balance (figures from our real photos, see the module docstring and the tests).
# Background: shades-of-grey norm and how many pixels it looks at (a strided subsample: the
# estimate is a mean, a few thousand pixels pin it down well).
_SOG_P = 6
_WB_SAMPLES = 6000
# sRGB 8-bit -> linear (and linear^p) in one table lookup.
_SRGB8_LINEAR = srgb_to_linear(np.arange(256, dtype=np.uint8))
_SRGB8_TO_LINEAR_POW_P = _SRGB8_LINEAR**_SOG_P
# It abstains on tight face crops: with less than half the frame outside the (grown) face oval,
# what is left is hair, neck and shoulders, not scene, and grey-world reads blonde or brown hair
# as a yellow cast (on our data: 27-38% background in all 28 tight crops, whose estimates reach
# |c| = 0.51 with no cast; 71-96% in the 15 portrait faces, max 0.16). Also when under 5% of
# the frame is usable (not near-white, not near-black) background.
_WB_MIN_BACKGROUND = 0.5
_LUMA_U8 = np.array([77, 150, 29], np.uint32)  # Rec. 601 luma weights * 256
_WB_MAX_LUMA = 250
_WB_MIN_USABLE = 0.05
# Sclera: eye openings minus a lash margin and the iris disc; the brightest 30% of what is left
# (the rest is lid shadow, lashes, tear line); at least 10 such pixels, else it abstains.
_SCLERA_MARGIN_IOD = 0.02
_IRIS_RADIUS_SCALE = 1.15  # iris ring landmarks sit on the limbus; clear its dark edge too
_SCLERA_BRIGHT_FRACTION = 0.3
_SCLERA_MIN_PIXELS = 10
# Median log-chromaticity of those sclera pixels on the 17 of our 43 uncast real faces where
# enough sclera shows (mostly MT and looks; squinting portraits abstain): eye whites are
# slightly warm, not neutral.
_SCLERA_REFERENCE = np.array([0.051, -0.025, -0.019])
# The two estimates must point within 60 degrees of each other to count as agreeing.
_WB_AGREE_COS = 0.5
# Casts (log-chromaticity magnitude; 0.1 is roughly a 10% channel imbalance) below the dead zone
# are left alone, the excess is removed up to the cap. A (1.15, 1, 0.85) cast on 8-bit values is
# ~0.45. A lone estimate needs a wider dead zone than two that agree: on uncast photos, background
# estimates of portraits reach 0.16 (scene content) and sclera estimates 0.26 (lid shadow, eye
# makeup, redness, few pixels).
_WB_DEAD_ZONE_AGREED = 0.05
_WB_DEAD_ZONE_BACKGROUND = 0.08
_WB_DEAD_ZONE_SCLERA = 0.15
_WB_MAX_CORRECTION = 0.5
# Skin locus guard: hue range (deg) of white-balanced skin. Our real faces measure 38-79 deg,
# the Monk references 49-89, the foundation catalogue's 1st-99th percentiles 33-82; the bounds
# leave room for flushed and very yellow skin.
_LOCUS_HUE_DEG = (25.0, 95.0)
_LOCUS_MIN_CHROMA = 3.0
# Undertone cut points (services.common.color) are calibrated on foundation swatches. Skin
# measured in photos is redder: on our 43 real faces its h_ab is a median 9.5 deg below that of
# the catalogue shades with the same L* and C* (8.6 deg on 10 distinct faces without makeup),
# from blood in the skin, camera rendering and blush. Without this shift 34 of them came out
# "cool"; with it 18 warm, 16 cool, 8 neutral.
_PHOTO_TO_SWATCH_HUE_DEG = 8.0
# Rec. 709 luminance weights: gains are normalised so a grey keeps its luminance (the correction
# moves hue, not L*).
_Y_WEIGHTS = np.array([0.2126729, 0.7151522, 0.0721750])


@dataclass(frozen=True)
class SkinTone:
    lab: tuple[float, float, float]  # CIELAB D65 of the white-balanced skin
    hex: str  # "#rrggbb" of `lab`
    ita_degrees: float
    monk_bucket: int  # 1 (lightest) .. 10 (darkest)
    undertone: Undertone
    confidence: float  # 0..1


def _max_channel(px: NDArray[np.uint8]) -> NDArray[np.uint8]:
    # Faster than px.max(axis=1) for (N, 3): three element-wise passes instead of a reduction.
    return np.maximum(np.maximum(px[:, 0], px[:, 1]), px[:, 2])


def _usable(px: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Pixels neither clipped nor near black."""
    hi = _max_channel(px)
    return (hi < _CLIPPED_U8) & (hi >= _DARK_U8)


def _check_inputs(image_rgb: np.ndarray, landmarks: np.ndarray) -> NDArray[np.float64]:
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(
            f"image_rgb must be (H, W, 3) uint8, got {image_rgb.shape} {image_rgb.dtype}"
        )
    pts = np.asarray(landmarks)
    if pts.ndim != 2 or pts.shape[0] < fm.NUM_MESH_LANDMARKS or pts.shape[1] < 2:
        raise ValueError(f"landmarks must be (478, 3) (or (468, 2+)), got {pts.shape}")
    xy = pts[: fm.NUM_MESH_LANDMARKS, :2].astype(np.float64)
    if not np.isfinite(xy).all():
        raise ValueError("landmarks contain NaN or inf")
    return xy


def _iod(xy: NDArray[np.float64]) -> float:
    d = xy[fm.LEFT_EYE_OUTER_CORNER] - xy[fm.RIGHT_EYE_OUTER_CORNER]
    return float(np.hypot(d[0], d[1]))


def _fixed(points: NDArray[np.float64]) -> NDArray[np.int32]:
    # cv2 draws with 2 fractional bits (shift=2): quarter-pixel polygon vertices.
    return np.round(points * 4.0).astype(np.int32)


def skin_sample_mask(
    xy: NDArray[np.float64], box: tuple[int, int, int, int]
) -> tuple[NDArray[np.uint8], int, float]:
    """Sampled skin inside `box` (x0, y0, x1, y1) for mesh points `xy` (468, 2), as region
    labels: 0 not sampled, 1 right cheek, 2 left cheek, 3 forehead.

    Also returns the number of region pixels inside the box before exclusions and the regions'
    full area in pixels (shoelace, wherever they lie), so callers can tell how much of the
    face's skin was visible in the image.
    """
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    origin = np.array([x0, y0], np.float64)
    full_area = 0.0
    for label, poly in enumerate(_REGIONS, start=1):
        v = xy[list(poly)]
        cv2.fillPoly(mask, [_fixed(v - origin)], label, cv2.LINE_8, 2)
        full_area += 0.5 * abs(
            float(np.dot(v[:, 0], np.roll(v[:, 1], 1)) - np.dot(v[:, 1], np.roll(v[:, 0], 1)))
        )
    inside = int(cv2.countNonZero(mask))
    excluded = [_fixed(xy[list(p)] - origin) for p in _EXCLUDED]
    cv2.fillPoly(mask, excluded, 0, cv2.LINE_8, 2)
    margin = max(1, round(_EXCLUDE_MARGIN_IOD * _iod(xy)))
    cv2.polylines(mask, excluded, True, 0, 2 * margin + 1, cv2.LINE_8, 2)
    return mask, inside, full_area


def estimate_white_balance_gains(
    image_rgb: np.ndarray, landmarks: np.ndarray
) -> NDArray[np.float64]:
    """Per-channel gains (3,) for linear RGB that undo the estimated colour cast of the photo
    (ones when nothing trustworthy says there is one). See the module docstring."""
    xy = _check_inputs(image_rgb, landmarks)
    return _wb_gains(image_rgb, xy, np.asarray(landmarks)[:, :2].astype(np.float64))


def _log_chroma(rgb_linear_mean: NDArray[np.float64]) -> NDArray[np.float64] | None:
    if not np.all(rgb_linear_mean > 0):
        return None
    log_e = np.log(rgb_linear_mean)
    return log_e - log_e.mean()


def _background_cast(image_rgb: np.ndarray, xy: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Shades-of-grey cast estimate on a strided subsample of the image outside the face oval."""
    h, w = image_rgb.shape[:2]
    step = max(1, int(np.sqrt(h * w / _WB_SAMPLES)))
    small = image_rgb[::step, ::step]
    keep = np.full(small.shape[:2], 255, np.uint8)
    # Face oval grown by a quarter of the inter-ocular distance: ears, jaw shadow and stray skin
    # at the oval's edge stay out.
    oval = _fixed(xy[list(fm.FACE_OVAL_LOOP)] / step)
    cv2.fillPoly(keep, [oval], 0, cv2.LINE_8, 2)
    cv2.polylines(keep, [oval], True, 0, max(1, round(0.5 * _iod(xy) / step)) | 1, cv2.LINE_8, 2)
    background = keep.view(np.bool_)
    if np.count_nonzero(background) < _WB_MIN_BACKGROUND * keep.size:
        return None
    px = small[background]
    # Select on luma, not on the max channel: under a cast the boosted channel clips first, and
    # dropping those pixels would drop exactly the bright ones that reveal the cast (p = 6 leans
    # on them). Partly clipped pixels stay; near-white and near-black ones go.
    luma = (px @ _LUMA_U8) >> 8
    px = px[(luma >= _DARK_U8) & (luma <= _WB_MAX_LUMA)]
    if px.shape[0] < _WB_MIN_USABLE * keep.size:
        return None
    return _log_chroma(np.mean(_SRGB8_TO_LINEAR_POW_P[px], axis=0) ** (1.0 / _SOG_P))


def _sclera_cast(image_rgb: np.ndarray, pts: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Cast estimate from the whites of the eyes: the brightest unclipped pixels of both eye
    openings, lashes (eroded margin) and irises (disc through the iris ring) removed, relative
    to the sclera's own slightly warm colour in uncast photos. None when too few pixels."""
    if pts.shape[0] < fm.NUM_LANDMARKS:
        return None
    xy = pts[: fm.NUM_MESH_LANDMARKS]
    iod = _iod(xy)
    h, w = image_rgb.shape[:2]
    samples = []
    for loop, centre, ring in (
        (fm.LEFT_EYE_LOOP, fm.LEFT_IRIS_CENTER, fm.LEFT_IRIS_LOOP),
        (fm.RIGHT_EYE_LOOP, fm.RIGHT_IRIS_CENTER, fm.RIGHT_IRIS_LOOP),
    ):
        eye = xy[list(loop)]
        x0 = max(0, int(np.floor(eye[:, 0].min())))
        y0 = max(0, int(np.floor(eye[:, 1].min())))
        x1 = min(w, int(np.ceil(eye[:, 0].max())) + 1)
        y1 = min(h, int(np.ceil(eye[:, 1].max())) + 1)
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        origin = np.array([x0, y0], np.float64)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        poly = _fixed(eye - origin)
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_8, 2)
        cv2.polylines(
            mask, [poly], True, 0, 2 * max(1, round(_SCLERA_MARGIN_IOD * iod)) + 1, cv2.LINE_8, 2
        )
        radius = _IRIS_RADIUS_SCALE * float(
            np.mean(np.linalg.norm(pts[list(ring)] - pts[centre], axis=1))
        )
        cx, cy = _fixed(pts[centre] - origin)
        cv2.circle(mask, (int(cx), int(cy)), int(round(radius * 4)), 0, -1, cv2.LINE_8, 2)
        samples.append(image_rgb[y0:y1, x0:x1][mask.view(np.bool_)])
    if not samples:
        return None
    px = np.concatenate(samples)
    px = px[_max_channel(px) < _CLIPPED_U8]
    n_white = int(_SCLERA_BRIGHT_FRACTION * px.shape[0])
    if n_white < _SCLERA_MIN_PIXELS:
        return None
    lin = srgb_to_linear(px)
    lum = lin @ _Y_WEIGHTS
    white = lin[np.argpartition(lum, -n_white)[-n_white:]]
    c = _log_chroma(white.mean(axis=0))
    return None if c is None else c - _SCLERA_REFERENCE


def _agreed_cast(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The part of two cast estimates they agree on: along their bisector, the smaller of the
    two projections; nothing if they point more than 60 degrees apart."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0 or float(a @ b) < _WB_AGREE_COS * na * nb:
        return np.zeros(3)
    u = a / na + b / nb
    u /= np.linalg.norm(u)
    return u * min(float(a @ u), float(b @ u))


def _wb_gains(
    image_rgb: np.ndarray, xy: NDArray[np.float64], pts: NDArray[np.float64]
) -> NDArray[np.float64]:
    background = _background_cast(image_rgb, xy)
    sclera = _sclera_cast(image_rgb, pts)
    if background is not None and sclera is not None:
        return _soft_correction(_agreed_cast(background, sclera), _WB_DEAD_ZONE_AGREED)
    if background is not None:
        return _soft_correction(background, _WB_DEAD_ZONE_BACKGROUND)
    if sclera is not None:
        return _soft_correction(sclera, _WB_DEAD_ZONE_SCLERA)
    return np.ones(3)


def _soft_correction(cast: NDArray[np.float64], dead_zone: float) -> NDArray[np.float64]:
    """Von Kries gains removing the part of `cast` (log-chromaticity, zero-sum) beyond the dead
    zone, at most _WB_MAX_CORRECTION, normalised so a grey keeps its luminance."""
    mag = float(np.sqrt(np.dot(cast, cast)))
    if mag <= dead_zone:
        return np.ones(3)
    gains = np.exp(-cast * (min(mag - dead_zone, _WB_MAX_CORRECTION) / mag))
    return gains / float(np.dot(_Y_WEIGHTS, gains))


def _within_skin_locus(
    skin_linear: NDArray[np.float64], gains: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The white-balance gains, halved or dropped if they would move the face's mean colour out
    of the hue range real skin occupies (a wrong estimate, e.g. blonde hair filling a tight crop
    read as a yellow cast, would otherwise turn skin blue). Full strength first, then half."""
    log_g = np.log(gains)
    for strength in (1.0, 0.5):
        g = np.exp(strength * log_g)
        g /= float(np.dot(_Y_WEIGHTS, g))
        lab = linear_rgb_to_lab(skin_linear * g)
        if np.hypot(lab[1], lab[2]) < _LOCUS_MIN_CHROMA:
            return g  # a grey face (monochrome photo): hue says nothing, nothing to guard
        hue = float(np.degrees(np.arctan2(lab[2], lab[1])))
        if _LOCUS_HUE_DEG[0] <= hue <= _LOCUS_HUE_DEG[1]:
            return g
    return np.ones(3)


def _region_box(xy: NDArray[np.float64], h: int, w: int) -> tuple[int, int, int, int] | None:
    pts = xy[_REGION_INDEX]
    x0 = max(0, int(np.floor(pts[:, 0].min())))
    y0 = max(0, int(np.floor(pts[:, 1].min())))
    x1 = min(w, int(np.ceil(pts[:, 0].max())) + 1)
    y1 = min(h, int(np.ceil(pts[:, 1].max())) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def _unoccluded(lab: NDArray[np.float32], region: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Pixels of the regions that are not occluded. A region (cheek, cheek, forehead) whose
    median colour is far from both others while those two agree is taken as covered (a fringe
    over the forehead, a strand of hair or a hand over a cheek) and dropped whole: pixel bands
    alone cannot reject an occluder that fills most of a region."""
    labels = [r for r in (1, 2, 3) if np.count_nonzero(region == r) >= _MIN_REGION_PIXELS]
    keep = np.ones(region.shape, np.bool_)
    if len(labels) < 3:
        return keep
    medians = np.stack([np.median(lab[:, region == r], axis=1) for r in labels]).astype(float)
    d = ciede2000(medians[:, None, :], medians[None, :, :])
    for i, r in enumerate(labels):
        j, k = (x for x in range(3) if x != i)
        if (
            d[i, j] > _REGION_OUTLIER_DE
            and d[i, k] > _REGION_OUTLIER_DE
            and d[j, k] < _REGION_AGREE_DE
        ):
            keep &= region != r
            break
    return keep


def _robust_bands(lab: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Pixels (columns of planar Lab) within the L* band and both a*/b* bands around the
    per-channel median, with MAD-based sigmas."""
    med = np.median(lab, axis=1)
    dev = np.abs(lab - med[:, None])
    lim = _BAND_SIGMAS * np.maximum(1.4826 * np.median(dev, axis=1), _SIGMA_FLOORS)
    return (dev[0] <= lim[0]) & (dev[1] <= lim[1]) & (dev[2] <= lim[2])


def _mean_linear(px: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Mean linear RGB of 8-bit pixels through per-channel histograms (no float copy)."""
    n = px.shape[0]
    return np.array([np.bincount(px[:, c], minlength=256) @ _SRGB8_LINEAR for c in range(3)]) / max(
        n, 1
    )


def _photo_undertone(lab: NDArray[np.float64]) -> Undertone:
    """Undertone of photo-measured skin on the catalogue-calibrated hue scale: rotate its hue by
    the photo-to-swatch offset first (see _PHOTO_TO_SWATCH_HUE_DEG)."""
    c, h = float(np.hypot(lab[1], lab[2])), float(np.arctan2(lab[2], lab[1]))
    h += np.radians(_PHOTO_TO_SWATCH_HUE_DEG)
    return undertone(np.array([lab[0], c * np.cos(h), c * np.sin(h)]))


def _result(lab: NDArray[np.float64], confidence: float) -> SkinTone:
    lab3 = (float(lab[0]), float(lab[1]), float(lab[2]))
    return SkinTone(
        lab=lab3,
        hex=lab_to_hex(lab),
        ita_degrees=float(ita_degrees(lab)),
        monk_bucket=monk_bucket(lab),
        undertone=_photo_undertone(lab),
        confidence=float(np.clip(confidence, 0.0, 1.0)),
    )


# Reported, with confidence 0, when no skin pixel of the face lies in the image at all.
_NO_MEASUREMENT_LAB = np.array([50.0, 0.0, 0.0])


def measure_skin_tone(
    image_rgb: np.ndarray, landmarks: np.ndarray, *, white_balance: bool = True
) -> SkinTone:
    """Skin colour of the face whose mesh `landmarks` (478, 3) (x, y in pixels) lie on
    `image_rgb` (H, W, 3) uint8. `white_balance=False` measures the photo's colours as they are.
    """
    xy = _check_inputs(image_rgb, landmarks)
    h, w = image_rgb.shape[:2]
    box = _region_box(xy, h, w)
    if box is None:
        return _result(_NO_MEASUREMENT_LAB, 0.0)
    mask, inside, full_area = skin_sample_mask(xy, box)
    x0, y0, x1, y1 = box
    # A regular grid of about _MAX_SAMPLES pixels: medians and fractions from a few thousand
    # pixels are as good as from all of them (median standard error ~0.1 L*), at a fraction of
    # the cost on large faces.
    step = max(1, round(float(np.sqrt(inside / _MAX_SAMPLES))))
    grid = mask[::step, ::step]
    sampled = grid > 0
    px = image_rgb[y0:y1:step, x0:x1:step][sampled]
    region = grid[sampled]
    n_sampled = px.shape[0]
    if n_sampled == 0:
        return _result(_NO_MEASUREMENT_LAB, 0.0)

    usable = _usable(px)
    if not usable.any():
        # Everything clipped or black: report the raw median so the caller has a colour, but
        # with no confidence in it.
        return _result(srgb_to_lab(np.median(px, axis=0).astype(np.uint8)), 0.0)
    px, region = px[usable], region[usable]

    gains = None
    if white_balance:
        estimate = _wb_gains(image_rgb, xy, np.asarray(landmarks)[:, :2].astype(np.float64))
        if np.any(estimate != 1.0):
            gains = _within_skin_locus(_mean_linear(px), estimate)
    lab = srgb8_pixels_to_lab_planar(px, gains)  # (3, N) float32

    keep = _unoccluded(lab, region)
    keep[keep] = _robust_bands(lab[:, keep])
    n_kept = int(np.count_nonzero(keep))
    if n_kept:
        skin = np.median(lab[:, keep], axis=1, overwrite_input=True)
    else:
        skin = np.median(lab, axis=1)
    skin = skin.astype(np.float64)

    visible = min(1.0, inside / full_area) if full_area > 0 else 0.0
    resolution = min(1.0, _iod(xy) / _FULL_CONFIDENCE_IOD_PX)
    return _result(skin, n_kept / n_sampled * visible * resolution)
