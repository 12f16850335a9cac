"""Foundation shade matching: the catalogue shades nearest to a measured skin colour by
CIEDE2000, across brands.

The skin colour comes from recon already white-balanced and converted to CIELAB (D65); this
module does no colour correction of its own. Matching a raw, unbalanced camera colour would
shift every ΔE by the cast (a warm indoor light adds several ΔE00 towards yellow-red), so callers
must pass recon's measured Lab, not a pixel average of the selfie.

Exact and brute force: services.common.color.ciede2000 is vectorised and evaluates the ~7,400
shades of the two Pudding catalogues in well under a millisecond, so there is nothing to gain
from a ΔE76 prefilter (which can reorder near ties, as ΔE76 and ΔE00 disagree on hue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from services.common.color import ciede2000, hex_to_lab, parse_hex

__all__ = ["ShadeIndex", "ShadeMatch", "as_lab"]


@dataclass(frozen=True)
class ShadeMatch:
    shade_id: str
    delta_e: float  # CIEDE2000 between the skin colour and the shade
    lab: tuple[float, float, float]


def as_lab(colour: str | ArrayLike) -> NDArray[np.float64]:
    """A '#rrggbb' sRGB hex or an (L*, a*, b*) triple -> Lab (3,) float64, validated."""
    if isinstance(colour, str):
        parse_hex(colour)  # raises with the offending text
        return hex_to_lab(colour)
    lab = np.asarray(colour, dtype=np.float64)
    if lab.shape != (3,) or not np.all(np.isfinite(lab)):
        raise ValueError(f"expected one finite (L*, a*, b*) triple or '#rrggbb', got {colour!r}")
    if not 0.0 <= lab[0] <= 100.0:
        raise ValueError(
            f"L* = {lab[0]} is outside 0..100: pass CIELAB (D65), not sRGB 0..255 or XYZ"
        )
    return lab


class ShadeIndex:
    """Immutable set of catalogue shades (id, Lab, optional group such as brand or product)."""

    def __init__(
        self,
        shade_ids: Sequence[str],
        labs: ArrayLike,
        groups: Sequence[str] | None = None,
    ) -> None:
        lab = np.array(labs, dtype=np.float64)  # a private copy: the index never changes
        if lab.ndim != 2 or lab.shape[1] != 3:
            raise ValueError(f"expected shade Labs of shape (N, 3), got {lab.shape}")
        if len(shade_ids) != len(lab):
            raise ValueError(f"{len(shade_ids)} shade ids for {len(lab)} Lab rows")
        if groups is not None and len(groups) != len(lab):
            raise ValueError(f"{len(groups)} groups for {len(lab)} shades")
        if not np.all(np.isfinite(lab)):
            raise ValueError("shade Labs contain NaN or infinity")
        lab.setflags(write=False)
        self._lab = lab
        self._ids = list(shade_ids)
        self._groups = None if groups is None else np.asarray(groups, dtype=object)

    @classmethod
    def from_hex(
        cls, shades: Iterable[tuple[str, str]], groups: Sequence[str] | None = None
    ) -> ShadeIndex:
        """From (shade id, '#rrggbb') pairs; the hex codes are sRGB swatch colours."""
        pairs = list(shades)
        ids = [sid for sid, _ in pairs]
        labs = hex_to_lab([hx for _, hx in pairs]) if pairs else np.zeros((0, 3))
        return cls(ids, labs, groups)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def labs(self) -> NDArray[np.float64]:
        return self._lab

    def delta_e(self, skin: str | ArrayLike) -> NDArray[np.float64]:
        """CIEDE2000 from the skin colour to every shade, in index order."""
        return ciede2000(as_lab(skin), self._lab)

    def nearest(
        self,
        skin: str | ArrayLike,
        k: int = 5,
        max_delta_e: float | None = None,
        max_per_group: int | None = None,
    ) -> list[ShadeMatch]:
        """The k shades nearest to `skin` by CIEDE2000, nearest first (ties: index order).

        `max_delta_e` drops shades further than that (a ΔE00 over ~5 reads as a visibly wrong
        foundation); `max_per_group` caps how many come from one group (e.g. 1: at most one
        shade per brand), which needs the index built with `groups`.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if max_per_group is not None and self._groups is None:
            raise ValueError("max_per_group needs an index built with groups=...")
        de = self.delta_e(skin)
        if max_per_group is None and k < len(de):
            # Everything up to the k-th smallest ΔE, ties included, then an exact sort of that
            # handful: same order as a full sort (catalogues repeat hex codes, so ties are real).
            kth = de[np.argpartition(de, k - 1)[k - 1]]
            top = np.flatnonzero(de <= kth)
            order = top[np.lexsort((top, de[top]))]
        else:
            order = np.lexsort((np.arange(len(de)), de))
        picked: list[int] = []
        per_group: dict[object, int] = {}
        for i in order:
            if max_delta_e is not None and de[i] > max_delta_e:
                break
            if max_per_group is not None:
                g = self._groups[i]  # type: ignore[index]
                if per_group.get(g, 0) >= max_per_group:
                    continue
                per_group[g] = per_group.get(g, 0) + 1
            picked.append(int(i))
            if len(picked) == k:
                break
        return [
            ShadeMatch(
                shade_id=self._ids[i],
                delta_e=float(de[i]),
                lab=(float(self._lab[i, 0]), float(self._lab[i, 1]), float(self._lab[i, 2])),
            )
            for i in picked
        ]
