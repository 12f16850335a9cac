"""The makeup engine: a look (products in paint order) on every given face of a photo.

Per face: rasterize the mesh once into a UV map over the box the look needs (`face_raster`),
then for each product remap its UV texture (`uv_textures`) into a coverage mask inside that
product's own small box and blend it in linear light (`compositing`). Pixels no product
touches are copied from the input bit for bit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from face_topology import (
    LEFT_EYE_LOOP,
    LIPS_INNER_LOOP,
    RIGHT_EYE_LOOP,
    CanonicalFaceModel,
    load_canonical_face_model,
)
from services.render.batch_compositing import ShadeBatchPainter
from services.render.compositing import apply_plan, plan_product
from services.render.face_raster import FaceRaster, UvMesh, rasterize_face
from services.render.linear_light import hex_to_linear, linear_to_srgb8, srgb8_to_linear
from services.render.look import COVERAGE_CATEGORIES, AppliedProduct, strength
from services.render.uv_textures import TEXTURE_SIZE, UvTextures, build_uv_textures

# The mouth and eye openings as landmark polygons: the mesh leaves them open, but its thin
# triangles along a curved lip or lid can bulge a pixel or two into the opening, so paint is
# also cut by the polygons themselves (teeth and eyeballs stay bare).
_OPENINGS = (LIPS_INNER_LOOP, LEFT_EYE_LOOP, RIGHT_EYE_LOOP)
_WARM_UP_LOOK = AppliedProduct.paint("lipstick", "#a03040")
_GLITTERING = frozenset({"shimmer", "metallic"})  # finishes that add the UV sparkle texture

__all__ = ["MakeupRenderer"]


class MakeupRenderer:
    """Holds the UV textures (built once per worker process, ~1 s); `render` is thread-safe."""

    def __init__(self, model_dir: Path | None = None, texture_size: int = TEXTURE_SIZE) -> None:
        self.model: CanonicalFaceModel = load_canonical_face_model(model_dir)
        self.texture_size = texture_size
        self.textures: UvTextures = build_uv_textures(self.model, texture_size)
        self.mesh = UvMesh.from_model(self.model, texture_size)
        self._batch = ShadeBatchPainter()
        self._warm_up()

    def _warm_up(self) -> None:
        """Compiles the rasterizer now (numba, ~1 s, cached on disk), not in the first
        shopper's request: renders the canonical face laid flat as a 256 px image."""
        flat = np.zeros((len(self.model.uv), 3))
        flat[:, :2] = self.model.uv * 255.0
        self.render(np.zeros((256, 256, 3), np.uint8), [flat], [_WARM_UP_LOOK])

    def render(
        self, rgb: np.ndarray, faces: Sequence[np.ndarray], look: Sequence[AppliedProduct]
    ) -> np.ndarray:
        """rgb: (h, w, 3) uint8; faces: (478, 3) landmarks each, image pixels; look: resolved
        products in paint order. A new image."""
        out = rgb.copy()
        for landmarks in faces:
            self._paint_face(out, landmarks, look)
        return out

    @staticmethod
    def _openings(landmarks: np.ndarray, raster: FaceRaster) -> np.ndarray:
        """(h, w) float32 over the raster's box: 0 inside the mouth and eye openings, else 1."""
        box = raster.box
        keep = np.ones((box.y1 - box.y0, box.x1 - box.x0), np.float32)
        origin = np.array([box.x0, box.y0], np.float64)
        polygons = [
            np.round((np.asarray(landmarks)[list(loop), :2] - origin) * 16).astype(np.int32)
            for loop in _OPENINGS
        ]
        cv2.fillPoly(keep, polygons, 0.0, cv2.LINE_8, 4)
        return keep

    def render_many(
        self, rgb: np.ndarray, landmarks: np.ndarray, looks: Sequence[AppliedProduct]
    ) -> list[np.ndarray]:
        """Each application alone on the same face (catalog re-renders). The face is
        rasterized once; shades of the same product kind share one plan and are painted
        together by torch (`batch_compositing`, on the GPU where present)."""
        results = [rgb.copy() for _ in looks]
        raster = self._raster(rgb.shape, landmarks, looks)
        if raster is None:
            return results
        openings = self._openings(landmarks, raster)
        box = raster.box
        original = rgb[box.slices]
        lin = srgb8_to_linear(original)
        groups: dict[tuple[str, str, str, float], list[int]] = defaultdict(list)
        for i, app in enumerate(looks):
            coverage = float(app.coverage) if app.category in COVERAGE_CATEGORIES else 0.0
            groups[(self._key(app), app.category, app.finish, coverage)].append(i)
        for (key, category, finish, coverage), members in groups.items():
            covered = self._coverage(raster, openings, key, finish)
            if covered is None:
                continue
            rows, cols, alpha, sparkle = covered
            region = lin[rows, cols]
            plan = plan_product(region, alpha, category, finish, coverage, sparkle,
                                raster.face_width)  # fmt: skip
            colours = np.stack([hex_to_linear(looks[i].hex) for i in members])
            strengths = np.array([strength(looks[i]) for i in members], np.float32)
            painted = self._batch.paint(region, plan, colours, strengths)
            for i, boxed in zip(members, painted, strict=True):
                results[i][box.slices][rows, cols] = boxed  # untouched pixels come back as-is
        return results

    def region_mask(
        self, shape: tuple[int, ...], landmarks: np.ndarray, category: str, zone: str | None = None
    ) -> np.ndarray:
        """Where a product of `category` lands on this face: (h, w) float32 coverage 0..1
        (before opacity and intensity). For measuring regions and for debugging looks."""
        key = self.textures.key_for(category, zone)
        mask = np.zeros(shape[:2], np.float32)
        needed = self.textures.triangles[key]
        raster = rasterize_face(landmarks, self.mesh, needed, shape[:2])
        if raster is not None:
            covered = self._coverage(raster, self._openings(landmarks, raster), key)
            if covered is not None:
                rows, cols, alpha, _ = covered
                mask[raster.box.slices][rows, cols] = alpha
        return mask

    # -- internals ---------------------------------------------------------------------------
    def _key(self, app: AppliedProduct) -> str:
        return self.textures.key_for(app.category, app.zone)

    def _coverage(
        self, raster: FaceRaster, openings: np.ndarray, key: str, finish: str = ""
    ) -> tuple[slice, slice, np.ndarray, np.ndarray | None] | None:
        """A product's coverage over its own box (rows, cols inside the raster's box), the
        mouth and eye openings cut out, and its sparkle for glittering finishes; None when
        none of its triangles is visible."""
        sub = raster.sub_box(self.textures.triangles[key])
        if sub.empty:
            return None
        rows, cols = sub.within(raster.box)
        alpha = raster.sample(self.textures.masks[key], sub) * openings[rows, cols]
        sparkle = None
        if finish in _GLITTERING:
            sparkle = raster.sample(self.textures.masks["sparkle"], sub)
        return rows, cols, alpha, sparkle

    def _raster(
        self, shape: tuple[int, ...], landmarks: np.ndarray, look: Sequence[AppliedProduct]
    ) -> FaceRaster | None:
        needed = np.zeros(len(self.model.triangles), bool)
        for app in look:
            needed |= self.textures.triangles[self._key(app)]
        return rasterize_face(landmarks, self.mesh, needed, shape[:2])

    def _paint_face(
        self, out: np.ndarray, landmarks: np.ndarray, look: Sequence[AppliedProduct]
    ) -> None:
        raster = self._raster(out.shape, landmarks, look)
        if raster is not None:
            self._paint(out, raster, look, self._openings(landmarks, raster))

    def _paint(
        self,
        out: np.ndarray,
        raster: FaceRaster,
        look: Sequence[AppliedProduct],
        openings: np.ndarray,
    ) -> None:
        box = raster.box
        original = out[box.slices]
        lin = srgb8_to_linear(original)
        for app in look:
            covered = self._coverage(raster, openings, self._key(app), app.finish)
            if covered is None:
                continue
            rows, cols, alpha, sparkle = covered
            alpha *= np.float32(strength(app))
            region = lin[rows, cols]  # a view: painted in place
            plan = plan_product(region, alpha, app.category, app.finish, float(app.coverage),
                                sparkle, raster.face_width)  # fmt: skip
            apply_plan(lin, rows, cols, plan, hex_to_linear(app.hex))
        # No mask needed: an untouched pixel is blended with weight 0 and the 8-bit -> linear
        # -> 8-bit tables round-trip exactly (tests check bit-exact untouched pixels).
        out[box.slices] = linear_to_srgb8(lin)
