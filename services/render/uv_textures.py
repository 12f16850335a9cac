"""Product masks authored once in MediaPipe's canonical UV space (v grows downward).

Each texture is a TEXTURE_SIZE^2 uint8 coverage map, feathered here once so no frame ever
blurs: the per-photo warp (`face_raster`) carries the soft edge onto the face at any pose.
Zones are drawn from landmark UVs (`makeup_zones`, subject's right) and mirrored to the left
through the canonical model's symmetry. Eyes and the mouth opening are holes in the mesh, so
nothing drawn here can land on eyeballs or teeth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from face_topology import FACE_OVAL_LOOP, LEFT_EYE_LOOP, RIGHT_EYE_LOOP, CanonicalFaceModel
from services.render import makeup_zones as zones

__all__ = ["TEXTURE_SIZE", "TextureKey", "UvTextures", "build_uv_textures"]

TEXTURE_SIZE = 1024
# Fixed seed: the shimmer pattern is part of the product's look, the same on every render.
SPARKLE_SEED = 20261201

# Coverage below this (of 255) is dropped from the textures: invisible, but it would widen
# every product's box.
_MIN_COVERAGE = 3

TextureKey = str  # a category, or "eyeshadow:<zone>", or "sparkle"


@dataclass(frozen=True)
class UvTextures:
    """Masks by key, plus for each the mesh triangles it touches (only those get rasterized)."""

    masks: dict[TextureKey, np.ndarray]  # (S, S) uint8
    triangles: dict[TextureKey, np.ndarray]  # bool (num_triangles,)

    def key_for(self, category: str, zone: str | None) -> TextureKey:
        if category == "eyeshadow":
            return f"eyeshadow:{zone or 'lid'}"
        return category


class _Painter:
    """Draws in UV pixels with landmarks named by index; `both` draws a zone and its mirror."""

    def __init__(self, model: CanonicalFaceModel, size: int) -> None:
        self.size = size
        self.uv = model.uv.astype(np.float64) * size
        self.mirror = _mirror_indices(model.vertices)

    def pts(self, indices: Sequence[int], mirrored: bool = False) -> np.ndarray:
        idx = np.asarray(indices)
        return self.uv[self.mirror[idx] if mirrored else idx]

    def canvas(self) -> np.ndarray:
        return np.zeros((self.size, self.size), np.float32)

    def poly(self, canvas: np.ndarray, points: np.ndarray, value: float = 1.0) -> None:
        cv2.fillPoly(canvas, [_fixed(points)], value, cv2.LINE_AA, shift=_SHIFT)

    def line(self, canvas: np.ndarray, points: np.ndarray, width: float, closed=False) -> None:
        thickness = max(1, round(width * self.size))
        cv2.polylines(canvas, [_fixed(points)], closed, 1.0, thickness, cv2.LINE_AA, _SHIFT)

    def blob(self, canvas: np.ndarray, centre: np.ndarray, radii: tuple[float, float],
             angle_deg: float = 0.0) -> None:  # fmt: skip
        """A Gaussian ellipse (radii = 1 sigma, in UV units), max-combined into the canvas."""
        ys, xs = np.mgrid[0 : self.size, 0 : self.size].astype(np.float32)
        theta = np.deg2rad(angle_deg)
        dx, dy = xs - centre[0], ys - centre[1]
        u = (dx * np.cos(theta) + dy * np.sin(theta)) / (radii[0] * self.size)
        v = (-dx * np.sin(theta) + dy * np.cos(theta)) / (radii[1] * self.size)
        np.maximum(canvas, np.exp(-0.5 * (u * u + v * v)), out=canvas)

    def feather(self, canvas: np.ndarray, sigma: float) -> np.ndarray:
        """Gaussian feather, sigma in UV units (1.0 = the whole texture)."""
        return cv2.GaussianBlur(canvas, (0, 0), sigma * self.size)


_SHIFT = 4  # sub-pixel bits for OpenCV drawing


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(points * (1 << _SHIFT)).astype(np.int32).reshape(-1, 1, 2)


def _mirror_indices(vertices: np.ndarray) -> np.ndarray:
    """For each canonical vertex, the vertex nearest its mirror image across x = 0."""
    mirrored = vertices * np.array([-1.0, 1.0, 1.0], dtype=vertices.dtype)
    dist = np.linalg.norm(vertices[None, :, :] - mirrored[:, None, :], axis=2)
    return dist.argmin(axis=1)


def _both(build, painter: _Painter) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Draw a right-side zone and its mirror into one canvas."""
    canvas = painter.canvas()
    build(canvas, False)
    build(canvas, True)
    return canvas


def build_uv_textures(model: CanonicalFaceModel, size: int = TEXTURE_SIZE) -> UvTextures:
    p = _Painter(model, size)
    eye_width = float(
        np.linalg.norm(p.pts([zones.EYE_OUTER_CORNER]) - p.pts([zones.EYE_INNER_CORNER]))
    )
    w = eye_width / size  # UV units, the yardstick for strokes and feathers
    masks: dict[TextureKey, np.ndarray] = {}

    # Lips: the vermilion between the outer and inner contours.
    lips = p.canvas()
    p.poly(lips, p.pts(zones.LIPS_OUTER_LOOP))
    p.poly(lips, p.pts(zones.LIPS_INNER_LOOP), 0.0)
    masks["lipstick"] = p.feather(lips, 0.03 * w)
    liner = p.canvas()
    p.line(liner, p.pts(zones.LIPS_OUTER_LOOP), 0.045 * w, closed=True)
    masks["lip_liner"] = p.feather(liner, 0.02 * w)

    eyes = p.canvas()  # keep-out for skin products: the eye openings, slightly grown
    for loop in (RIGHT_EYE_LOOP, LEFT_EYE_LOOP):
        p.poly(eyes, p.pts(loop))
    eyes = cv2.dilate(eyes, np.ones((3, 3), np.uint8), iterations=max(1, round(0.08 * eye_width)))

    def lid(c: np.ndarray, m: bool) -> None:
        upper = p.pts(zones.EYE_UPPER_1, m) * 0.5 + p.pts(zones.EYE_UPPER_2, m) * 0.5
        ring = [zones.EYE_OUTER_CORNER, *zones.EYE_UPPER_0, zones.EYE_INNER_CORNER]
        p.poly(c, np.vstack([p.pts(ring, m), upper[::-1]]))

    def crease(c: np.ndarray, m: bool) -> None:
        p.line(c, p.pts(zones.EYE_UPPER_2, m) * 0.7 + p.pts(zones.EYE_UPPER_1, m) * 0.3, 0.14 * w)

    def outer_corner(c: np.ndarray, m: bool) -> None:
        corner = p.pts([zones.EYE_OUTER_CORNER], m)[0]
        inner = p.pts([zones.EYE_INNER_CORNER], m)[0]
        up = p.pts([zones.EYE_UPPER_1[1]], m)[0]
        centre = corner * 0.75 + up * 0.25 + (corner - inner) * 0.05
        angle = np.degrees(np.arctan2(*(corner - inner)[::-1]))
        p.blob(c, centre, (0.16 * w, 0.10 * w), angle)

    masks["eyeshadow:lid"] = p.feather(_both(lid, p), 0.05 * w)
    masks["eyeshadow:crease"] = p.feather(_both(crease, p), 0.07 * w)
    masks["eyeshadow:outer_corner"] = _both(outer_corner, p)

    def liner_stroke(c: np.ndarray, m: bool) -> None:
        ring = [zones.EYE_OUTER_CORNER, *zones.EYE_UPPER_0, zones.EYE_INNER_CORNER]
        pts = p.pts(ring, m)
        # Tapered: thick at the outer corner, thin at the inner one, drawn as strips.
        for i in range(len(pts) - 1):
            t = i / (len(pts) - 2)
            p.line(c, pts[i : i + 2], (0.075 - 0.045 * t) * w)
        corner, inner = pts[0], pts[-1]
        outward = corner - inner
        wing_tip = corner + outward * 0.22 + np.array([0.0, -0.11 * eye_width])
        p.poly(c, np.vstack([pts[0] + np.array([0.0, 0.02 * eye_width]), wing_tip, pts[2]]))

    masks["eyeliner"] = p.feather(_both(liner_stroke, p), 0.012 * w)

    rng = np.random.default_rng(SPARKLE_SEED)

    def lashes(c: np.ndarray, m: bool) -> None:
        upper = p.pts([zones.EYE_OUTER_CORNER, *zones.EYE_UPPER_0, zones.EYE_INNER_CORNER], m)
        p.line(c, upper, 0.06 * w)
        p.line(c, p.pts(zones.EYE_LOWER_0, m)[:6], 0.025 * w)
        # Lash strokes fanning up from the upper lid margin, longest at the outer corner.
        for i in range(len(upper) - 1):
            for t in np.linspace(0.0, 1.0, 4, endpoint=False):
                base = upper[i] * (1 - t) + upper[i + 1] * t
                length = (0.16 - 0.09 * (i + t) / (len(upper) - 1)) * eye_width
                tip = base + np.array([-0.25 * length * (1 if not m else -1), -length])
                tip += rng.normal(0, 0.01 * eye_width, 2)
                p.line(c, np.vstack([base, tip]), 0.012 * w)

    masks["mascara"] = p.feather(_both(lashes, p), 0.004 * w)

    brows = _both(lambda c, m: p.poly(c, p.pts(zones.BROW_LOOP, m)), p)
    masks["brow"] = p.feather(brows, 0.025 * w)

    masks["blush"] = _both(
        lambda c, m: p.blob(c, p.pts(zones.CHEEK_APPLE, m).mean(axis=0), (0.42 * w, 0.30 * w),
                            -20 if not m else 20), p)  # fmt: skip
    masks["highlighter"] = np.maximum(
        _both(lambda c, m: p.blob(c, p.pts(zones.CHEEKBONE_TOP, m).mean(axis=0),
                                  (0.40 * w, 0.12 * w), -25 if not m else 25), p),
        p.feather(_stroke(p, zones.NOSE_BRIDGE, 0.10 * w) + _stroke(p, zones.CUPIDS_BOW, 0.06 * w),
                  0.05 * w),
    )  # fmt: skip
    masks["contour"] = p.feather(
        _both(lambda c, m: p.line(c, p.pts(zones.CONTOUR_LINE, m), 0.22 * w), p), 0.12 * w
    )
    bronze = _both(lambda c, m: (p.line(c, p.pts(zones.TEMPLE, m), 0.35 * w),
                                 p.line(c, p.pts(zones.CONTOUR_LINE, m)[:3], 0.35 * w),
                                 p.line(c, p.pts(zones.JAW_LINE, m), 0.25 * w)), p)  # fmt: skip
    masks["bronzer"] = p.feather(bronze, 0.18 * w)

    face = p.canvas()
    p.poly(face, p.pts(FACE_OVAL_LOOP))
    # The mesh ends mid-forehead and at the jaw: shrink the oval so the feather has faded out
    # before the mesh does, or the foundation would stop at a visible line.
    face = cv2.erode(face, np.ones((3, 3), np.uint8), iterations=max(1, round(0.35 * eye_width)))
    face = p.feather(face, 0.16 * w)
    keep_out = np.maximum(eyes, np.maximum(brows, _filled(p, zones.LIPS_OUTER_LOOP)))
    masks["foundation"] = face * (1.0 - p.feather(keep_out, 0.04 * w))

    def under_eye(c: np.ndarray, m: bool) -> None:
        lower = p.pts(zones.EYE_LOWER_0, m)
        deep = p.pts(zones.EYE_LOWER_2, m) * 0.4 + p.pts(zones.EYE_LOWER_3, m) * 0.6
        p.poly(c, np.vstack([lower, deep[::-1]]))

    masks["concealer"] = p.feather(_both(under_eye, p), 0.08 * w) * (1.0 - eyes)

    sparkle = np.zeros((size, size), np.float32)
    flecks = rng.integers(0, size, (size * size // 90, 2))
    sparkle[flecks[:, 1], flecks[:, 0]] = rng.uniform(0.4, 1.0, len(flecks))
    masks["sparkle"] = cv2.GaussianBlur(sparkle, (0, 0), 0.9) * 3.0

    u8 = {k: np.clip(v * 255.0 + 0.5, 0, 255).astype(np.uint8) for k, v in masks.items()}
    for key in ("lipstick", "lip_liner"):  # lip products stay on the vermilion's outside edge
        u8[key][_filled(p, zones.LIPS_INNER_LOOP) > 0.5] = 0
    for m in u8.values():
        m[m < _MIN_COVERAGE] = 0  # the feather's last invisible tail would only cost time
    owner = _triangle_owner_map(model, size)
    slivers = np.bincount(owner[owner >= 0], minlength=len(model.triangles)) < 4
    touched = {k: _touched(model, m, owner, slivers) for k, m in u8.items()}
    for m in u8.values():
        m.flags.writeable = False
    return UvTextures(masks=u8, triangles=touched)


def _stroke(p: _Painter, indices: Sequence[int], width: float) -> np.ndarray:
    c = p.canvas()
    p.line(c, p.pts(indices), width)
    return c


def _filled(p: _Painter, loop: Sequence[int]) -> np.ndarray:
    c = p.canvas()
    p.poly(c, p.pts(loop))
    return c


def _triangle_owner_map(model: CanonicalFaceModel, size: int) -> np.ndarray:
    """Which triangle covers each texel (-1: none); UV triangles do not overlap."""
    owner = np.full((size, size), -1, np.int32)
    uv = model.uv.astype(np.float64) * size
    for i, tri in enumerate(model.triangles):
        cv2.fillConvexPoly(owner, _fixed(uv[tri]), i, cv2.LINE_8, _SHIFT)
    return owner


def _touched(
    model: CanonicalFaceModel, mask: np.ndarray, owner: np.ndarray, slivers: np.ndarray
) -> np.ndarray:
    """Triangles that hold paint: owners of painted texels, grown by one texel (bilinear
    sampling reads neighbours), plus any near-degenerate UV triangle (a sliver owns almost no
    texels yet may be stretched over several pixels on a face) whose box holds paint."""
    painted = cv2.dilate((mask > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    hit = np.zeros(len(model.triangles), bool)
    ids = owner[painted]
    hit[ids[ids >= 0]] = True
    size = mask.shape[0]
    uv = model.uv.astype(np.float64)[model.triangles] * size  # (T, 3, 2)
    lo = np.clip(np.floor(uv.min(axis=1)).astype(int) - 1, 0, size)
    hi = np.clip(np.ceil(uv.max(axis=1)).astype(int) + 2, 0, size)
    for t in np.flatnonzero(slivers & ~hit):
        (x0, y0), (x1, y1) = lo[t], hi[t]
        hit[t] = bool(mask[y0:y1, x0:x1].any())
    return hit
