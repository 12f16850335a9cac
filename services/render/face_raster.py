"""Per-photo warp from the image to the canonical UV space: one rasterization per face.

Instead of warping each texture triangle by triangle (21-41 ms per frame, DESIGN.md §2), the
mesh is rasterized once into a triangle-id buffer over the face box; each covered pixel then
gets its UV coordinate from its triangle's affine map, and every product mask is a single
`cv2.remap` of its texture through that map. Back-facing triangles are culled and the rest
drawn far-to-near, so on a turned face the near cheek hides the far one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from services.common.canonical_face_model import NUM_VERTICES, CanonicalFaceModel

__all__ = ["Box", "FaceRaster", "UvMesh", "rasterize_face"]

_SHIFT = 4  # sub-pixel bits for cv2.fillConvexPoly
OUTSIDE = -1e4  # remap coordinate that falls off the texture (constant border = no paint)


@dataclass(frozen=True, slots=True)
class Box:
    """Half-open pixel rectangle [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def within(self, outer: Box) -> tuple[slice, slice]:
        """This box's slices relative to `outer` (which must contain it)."""
        return (slice(self.y0 - outer.y0, self.y1 - outer.y0),
                slice(self.x0 - outer.x0, self.x1 - outer.x0))  # fmt: skip

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0


@dataclass(frozen=True)
class FaceRaster:
    """UV coordinates (texture pixels) for every pixel of `box`; OUTSIDE where no triangle."""

    box: Box
    map_x: np.ndarray  # (h, w) float32
    map_y: np.ndarray
    face_width: float  # pixels: scales filters (foundation smoothing)
    _vertices_xy: np.ndarray  # (468, 2) for sub-boxes
    _triangles: np.ndarray
    _front: np.ndarray  # bool per triangle: visible

    def sub_box(self, triangles: np.ndarray) -> Box:
        """The image box of the visible triangles among `triangles` (a bool mask), clipped."""
        chosen = triangles & self._front
        if not chosen.any():
            return Box(0, 0, 0, 0)
        pts = self._vertices_xy[self._triangles[chosen].ravel()]
        lo = np.floor(pts.min(axis=0)).astype(int) - 1
        hi = np.ceil(pts.max(axis=0)).astype(int) + 2
        b = self.box
        return Box(max(lo[0], b.x0), max(lo[1], b.y0), min(hi[0], b.x1), min(hi[1], b.y1))

    def sample(self, texture: np.ndarray, box: Box) -> np.ndarray:
        """The texture warped onto `box` (inside self.box), float32 0..1."""
        rows, cols = box.within(self.box)
        map_x, map_y = self.map_x[rows, cols], self.map_y[rows, cols]
        warped = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
        return warped.astype(np.float32) * np.float32(1.0 / 255.0)


@dataclass(frozen=True)
class UvMesh:
    """The canonical mesh as the rasterizer needs it, computed once per worker."""

    triangles: np.ndarray  # (T, 3) int
    uv_texels: np.ndarray  # (T, 3, 2) float64: texture pixel coordinates of each corner
    uv_sign: np.ndarray  # (T,) orientation of each triangle in UV (image-like, v down)

    @classmethod
    def from_model(cls, model: CanonicalFaceModel, texture_size: int) -> UvMesh:
        uv = model.uv.astype(np.float64)[model.triangles] * texture_size - 0.5  # texel centres
        return cls(model.triangles.astype(np.int64), uv, np.sign(_signed_area(uv)))


def rasterize_face(
    landmarks: np.ndarray, mesh: UvMesh, needed: np.ndarray, image_shape: tuple[int, int]
) -> FaceRaster | None:
    """landmarks: (>=468, 3) image pixels (z: smaller is nearer). needed: bool per triangle.
    None when none of the needed triangles is visible in the image."""
    verts = np.asarray(landmarks, dtype=np.float64)[:NUM_VERTICES]
    xy, z = verts[:, :2], verts[:, 2]
    height, width = image_shape
    candidates = np.flatnonzero(needed)
    p = xy[mesh.triangles[candidates]]  # (n, 3, 2)
    area = _signed_area(p)
    visible = (np.sign(area) == mesh.uv_sign[candidates]) & (np.abs(area) > 0.05)
    front = np.zeros(len(mesh.triangles), bool)
    front[candidates[visible]] = True
    chosen, p = candidates[visible], p[visible]
    if chosen.size == 0:
        return None
    flat = p.reshape(-1, 2)
    lo = np.floor(flat.min(axis=0)).astype(int)
    hi = np.ceil(flat.max(axis=0)).astype(int) + 1
    box = Box(max(lo[0], 0), max(lo[1], 0), min(hi[0], width), min(hi[1], height))
    if box.empty:
        return None

    # Far to near: a later (nearer) triangle overwrites the pixels it shares with a farther one.
    order = np.argsort(-z[mesh.triangles[chosen]].mean(axis=1), kind="stable")
    ids = np.full((box.y1 - box.y0, box.x1 - box.x0), len(chosen), np.int32)
    offset = np.array([box.x0, box.y0], np.float64)
    fixed = np.round((p[order] - offset) * (1 << _SHIFT)).astype(np.int32)
    for local_id, corners in zip(order.tolist(), fixed, strict=True):
        cv2.fillConvexPoly(ids, corners, local_id, cv2.LINE_8, _SHIFT)

    # Affine (box pixel -> texel) per drawn triangle, uv = M @ (x, y) + t, in closed form;
    # one extra entry, for pixels no triangle covers, sends them off the texture.
    local = p - offset
    e1, e2 = local[:, 1] - local[:, 0], local[:, 2] - local[:, 0]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    inv = np.stack([e2[:, 1], -e2[:, 0], -e1[:, 1], e1[:, 0]], axis=1).reshape(-1, 2, 2)
    inv /= det[:, None, None]
    uv = mesh.uv_texels[chosen]
    m = np.stack([uv[:, 1] - uv[:, 0], uv[:, 2] - uv[:, 0]], axis=2) @ inv  # (n, 2, 2)
    t = uv[:, 0] - np.einsum("nij,nj->ni", m, local[:, 0])
    coef = np.empty((6, len(chosen) + 1), np.float32)
    coef[:, :-1] = np.concatenate([m[:, 0], t[:, :1], m[:, 1], t[:, 1:]], axis=1).T
    coef[:, -1] = (0.0, 0.0, OUTSIDE, 0.0, 0.0, OUTSIDE)
    xs = np.arange(ids.shape[1], dtype=np.float32)[None, :]
    ys = np.arange(ids.shape[0], dtype=np.float32)[:, None]
    c = [np.take(row, ids) for row in coef]
    map_x = c[0] * xs + c[1] * ys + c[2]
    map_y = c[3] * xs + c[4] * ys + c[5]
    span = xy.max(axis=0) - xy.min(axis=0)
    return FaceRaster(box, map_x, map_y, float(span[0]), xy, mesh.triangles, front)


def _signed_area(tri: np.ndarray) -> np.ndarray:
    """Twice the signed area of (T, 3, 2) triangles."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
