"""What the makeup engine paints: a look is a sequence of resolved `AppliedProduct`s (the one
type for an applied product, in `services.common.payloads`), in paint order. This module holds
the engine's vocabularies and the one rule that scales a product's paint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from services.common.errors import ErrorCode, TryonError
from services.common.payloads import AppliedProduct, Category, EyeshadowZone, Finish

__all__ = [
    "CATEGORIES",
    "COVERAGE_CATEGORIES",
    "FINISHES",
    "NOT_TRY_ON_ABLE",
    "TRY_ON_CATEGORIES",
    "AppliedProduct",
    "Category",
    "Finish",
    "Look",
    "Zone",
    "require_try_on_able",
    "strength",
]

# The category, finish and zone vocabularies are the task payloads' (one definition).
Zone = EyeshadowZone

CATEGORIES: tuple[str, ...] = get_args(Category)
FINISHES: tuple[str, ...] = get_args(Finish)
# Catalog categories the engine has no mask for yet (what to call them in a message): listed,
# searched and recommended like any product, refused with FAILED_PRECONDITION wherever a product
# is resolved for painting (TryOn, StreamTryOn, catalog re-renders).
NOT_TRY_ON_ABLE: dict[str, str] = {"nail_polish": "nail polish"}
TRY_ON_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if c not in NOT_TRY_ON_ABLE)
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


def require_try_on_able(category: str, subject: str) -> None:
    """FAILED_PRECONDITION when `subject` ("product 'x' (look.applications[0])") is of a
    category the engine cannot paint (nail polish: the try-on paints faces, not hands)."""
    label = NOT_TRY_ON_ABLE.get(category)
    if label is not None:
        raise TryonError(
            ErrorCode.FAILED_PRECONDITION,
            f"{label} cannot be tried on yet: {subject} is {category} and the try-on paints "
            "faces only; remove it (ListProducts still lists it)",
        )
