"""What the makeup engine paints: a look is a sequence of resolved `AppliedProduct`s (the one
type for an applied product, in `services.common.payloads`), in paint order. This module holds
the engine's vocabularies and the one rule that scales a product's paint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from services.common.payloads import AppliedProduct, Category, EyeshadowZone, Finish

__all__ = [
    "CATEGORIES",
    "COVERAGE_CATEGORIES",
    "FINISHES",
    "AppliedProduct",
    "Category",
    "Finish",
    "Look",
    "Zone",
    "strength",
]

# The category, finish and zone vocabularies are the task payloads' (one definition).
Zone = EyeshadowZone

CATEGORIES: tuple[str, ...] = get_args(Category)
FINISHES: tuple[str, ...] = get_args(Finish)
# Products whose `coverage` (how much skin they hide) scales the paint; others ignore it.
COVERAGE_CATEGORIES = frozenset({"foundation", "concealer"})

Look = Sequence[AppliedProduct]


def strength(app: AppliedProduct) -> float:
    """The product's own scale on its paint: opacity x intensity (x coverage for base
    products). Separate from the painted geometry, so one plan serves many shades."""
    value = float(app.opacity) * float(app.intensity)
    if app.category in COVERAGE_CATEGORIES:
        value *= float(app.coverage)
    return min(max(value, 0.0), 1.0)
