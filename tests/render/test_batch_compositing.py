"""The batched torch path (catalog re-renders) paints what the single-image path paints."""

from __future__ import annotations

import numpy as np

from services.render.look import AppliedProduct
from services.render.makeup_renderer import MakeupRenderer
from tests.conftest import TEST_DATA
from tests.render.test_makeup_renderer import landmarks_of, read_rgb


def test_render_many_matches_render_for_every_kind_of_product() -> None:
    renderer = MakeupRenderer()
    rgb = read_rgb(TEST_DATA / "obama.jpg")
    marks = landmarks_of(rgb)
    looks = [
        AppliedProduct.paint("lipstick", "#b0243a", finish=finish, opacity=opacity)
        for finish in ("matte", "satin", "gloss", "shimmer", "metallic")
        for opacity in (0.5, 1.0)
    ] + [
        AppliedProduct.paint("foundation", "#c68e6a", coverage=0.7),
        AppliedProduct.paint("foundation", "#8d5a3b", coverage=0.7),
        AppliedProduct.paint("highlighter", "#f3dcc4", finish="shimmer"),
        AppliedProduct.paint("eyeshadow", "#3b2a3a", zone="crease"),
        AppliedProduct.paint("eyeliner", "#101010"),
        AppliedProduct.paint("brow", "#4a3426", opacity=0.6),
        AppliedProduct.paint("blush", "#d9767a", opacity=0.4),
    ]
    batched = renderer.render_many(rgb, marks, looks)
    for app, got in zip(looks, batched, strict=True):
        want = renderer.render(rgb, [marks], [app])
        diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
        # Float32 rounding moves a pixel by one level; where triangles fold over at the face's
        # edge, rasterizing the whole batch's triangles (not just this product's) can pick
        # the other layer for a handful of pixels.
        assert diff.max() <= 3, (app, int(diff.max()))
        assert (diff > 1).sum() <= 20 and (diff > 0).mean() < 0.002, app
        assert np.any(got != rgb), f"{app} painted nothing"
