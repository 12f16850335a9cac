"""Many shades of one product on one face at once, in torch: the catalog re-render path.

A re-render paints hundreds of shades of the same product kind on the same reference face.
Everything but the shade's colour and strength is shared (`compositing.BlendPlan`), so the
shades become one batched tensor expression, on the GPU when the worker has one (CUDA), else
on the CPU. Same formulas as `compositing.apply_plan`, in float32, so the two paths agree to
within an 8-bit level or so (tests/render/test_batch_compositing.py).
"""

from __future__ import annotations

import os

import numpy as np
import torch

from services.render.compositing import BlendPlan
from services.render.linear_light import ENCODE_STEPS, LINEAR_TO_SRGB8

__all__ = ["ShadeBatchPainter", "default_device"]

# Shades per tensor batch: bounds memory (~6 float32 images of the face box per shade).
CHUNK = 16


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class ShadeBatchPainter:
    def __init__(self, device: torch.device | None = None) -> None:
        self.device = device or default_device()
        if self.device.type == "cpu":
            # One worker process per core is the deployment unit: a batch worker spreading
            # torch threads over every core would take CPU from interactive try-ons.
            torch.set_num_threads(int(os.environ.get("TRYON_INFERENCE_THREADS", "1")))
        self._encode = torch.from_numpy(LINEAR_TO_SRGB8.astype(np.uint8)).to(self.device)

    def _tensor(self, array: np.ndarray | None) -> torch.Tensor | None:
        if array is None:
            return None
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(self.device)

    @torch.inference_mode()
    def paint(
        self, lin: np.ndarray, plan: BlendPlan, colours: np.ndarray, strengths: np.ndarray
    ) -> np.ndarray:
        """lin (h, w, 3) linear light; colours (n, 3) linear; strengths (n,) scale the plan's
        alpha. Returns the painted boxes as 8-bit sRGB, (n, h, w, 3) uint8."""
        base_lin = self._tensor(lin)
        gain = self._tensor(plan.gain)[None, ..., None]
        alpha = self._tensor(plan.alpha)[None, ..., None]
        tinted = self._tensor(plan.tinted)
        base = self._tensor(plan.base)
        if base is not None and base.ndim == 2:
            base = base[..., None]
        out = np.empty((len(colours), *lin.shape), np.uint8)
        for start in range(0, len(colours), CHUNK):
            c = self._tensor(colours[start : start + CHUNK])[:, None, None, :]
            k = self._tensor(strengths[start : start + CHUNK])[:, None, None, None]
            target = gain * c
            if tinted is not None:
                norm = c / c.amax(dim=-1, keepdim=True).clamp_min(1e-3)
                target = target + tinted[None, ..., None] * norm
            if base is not None:
                target = target + base[None]
            target = target.clamp_(0.0, 1.0)
            painted = base_lin[None] + (target - base_lin[None]) * (alpha * k)
            index = (painted.clamp_(0.0, 1.0) * (ENCODE_STEPS - 1) + 0.5).to(torch.int64)
            out[start : start + CHUNK] = self._encode[index].cpu().numpy()
        return out
