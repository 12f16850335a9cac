"""SSD anchors of BlazeFace short-range, as MediaPipe's SsdAnchorsCalculator makes them.

Options from mediapipe/tasks/cc/vision/face_detector/face_detector_graph.cc: 4 layers, strides
8/16/16/16 on a 128x128 input, one aspect ratio (1.0) plus one interpolated scale per layer,
fixed anchor size, offset 0.5. Layers with the same stride share one feature map, so this is a
16x16 grid with 2 anchors per cell followed by an 8x8 grid with 6: 512 + 384 = 896 anchors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class SsdAnchorOptions:
    input_size: int = 128
    num_layers: int = 4
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    strides: tuple[int, ...] = (8, 16, 16, 16)
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    anchor_offset: float = 0.5
    fixed_anchor_size: bool = True


FACE_DETECTOR_SHORT_RANGE = SsdAnchorOptions()


def _scale(options: SsdAnchorOptions, index: int) -> float:
    if options.num_layers == 1:
        return (options.min_scale + options.max_scale) / 2
    return options.min_scale + (options.max_scale - options.min_scale) * index / (
        options.num_layers - 1
    )


@cache
def generate_anchors(options: SsdAnchorOptions = FACE_DETECTOR_SHORT_RANGE) -> np.ndarray:
    """(N, 4) float32 anchors as (x_center, y_center, width, height), normalised to [0, 1]."""
    anchors: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < options.num_layers:
        # Consecutive layers with the same stride are merged into one feature map.
        sizes: list[tuple[float, float]] = []  # (width, height) of each anchor in a cell
        last = layer
        while last < options.num_layers and options.strides[last] == options.strides[layer]:
            scale = _scale(options, last)
            for ratio in options.aspect_ratios:
                sizes.append((scale * np.sqrt(ratio), scale / np.sqrt(ratio)))
            if options.interpolated_scale_aspect_ratio > 0:
                next_scale = 1.0 if last == options.num_layers - 1 else _scale(options, last + 1)
                interpolated = np.sqrt(scale * next_scale)
                ratio = options.interpolated_scale_aspect_ratio
                sizes.append((interpolated * np.sqrt(ratio), interpolated / np.sqrt(ratio)))
            last += 1
        grid = int(np.ceil(options.input_size / options.strides[layer]))
        for y in range(grid):
            for x in range(grid):
                x_center = (x + options.anchor_offset) / grid
                y_center = (y + options.anchor_offset) / grid
                for width, height in sizes:
                    if options.fixed_anchor_size:
                        width = height = 1.0
                    anchors.append((x_center, y_center, width, height))
        layer = last
    result = np.asarray(anchors, dtype=np.float32)
    result.flags.writeable = False
    return result
