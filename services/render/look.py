"""What the makeup engine paints: a look is a sequence of applications, in paint order.

The catalog resolves products to objects with exactly these attributes (its
`ResolvedApplication`, the batch payload's `RenderedShade`); the engine accepts anything that
has them (`ApplicationLike`), and `Application` is the engine's own frozen value type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, get_args

from services.common.color import parse_hex
from services.common.payloads import Category, EyeshadowZone, Finish

__all__ = [
    "CATEGORIES",
    "COVERAGE_CATEGORIES",
    "EYESHADOW_ZONES",
    "FINISHES",
    "Application",
    "ApplicationLike",
    "Category",
    "Finish",
    "Look",
    "Zone",
    "check_application",
    "strength",
]

# The category, finish and zone vocabularies are the task payloads' (one definition).
Zone = EyeshadowZone

CATEGORIES: tuple[str, ...] = get_args(Category)
FINISHES: tuple[str, ...] = get_args(Finish)
EYESHADOW_ZONES: tuple[str, ...] = get_args(Zone)
DEFAULT_EYESHADOW_ZONE = "lid"
# Products whose `coverage` (how much skin they hide) scales the paint; others ignore it.
COVERAGE_CATEGORIES = frozenset({"foundation", "concealer"})


class ApplicationLike(Protocol):
    """Read-only view of one application (the catalog's and the batch payload's types fit)."""

    @property
    def category(self) -> str: ...
    @property
    def hex(self) -> str: ...
    @property
    def finish(self) -> str: ...
    @property
    def opacity(self) -> float: ...
    @property
    def coverage(self) -> float: ...
    @property
    def intensity(self) -> float: ...
    @property
    def zone(self) -> str | None: ...


Look = Sequence[ApplicationLike]


@dataclass(frozen=True, slots=True)
class Application:
    """One product shade on the face. opacity: how much the shade hides what is under it;
    coverage: how much foundation/concealer evens the skin; intensity: the shopper's slider."""

    category: Category
    hex: str  # '#rrggbb'
    finish: Finish = "satin"
    opacity: float = 0.85
    coverage: float = 0.5
    intensity: float = 1.0
    zone: Zone | None = None  # eyeshadow only; None means the lid
    product_id: str = ""
    shade_id: str = ""

    def __post_init__(self) -> None:
        check_application(self)


def check_application(app: ApplicationLike) -> None:
    """Raises ValueError naming the bad field; the renderer calls it on every application."""
    if app.category not in CATEGORIES:
        raise ValueError(f"unknown category {app.category!r}: expected one of {CATEGORIES}")
    if app.finish not in FINISHES:
        raise ValueError(f"unknown finish {app.finish!r}: expected one of {FINISHES}")
    parse_hex(app.hex)  # raises ValueError with the offending text
    for name in ("opacity", "coverage"):
        value = float(getattr(app, name))
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    if not 0.0 < float(app.intensity) <= 1.0:
        raise ValueError(f"intensity must be in (0, 1], got {app.intensity}")
    if app.zone is not None:
        if app.category != "eyeshadow":
            raise ValueError(f"zone is for eyeshadow only, got zone {app.zone!r} on {app.category}")
        if app.zone not in EYESHADOW_ZONES:
            raise ValueError(f"unknown zone {app.zone!r}: expected one of {EYESHADOW_ZONES}")


def strength(app: ApplicationLike) -> float:
    """The product's own scale on its paint: opacity x intensity (x coverage for base
    products). Separate from the painted geometry, so one plan serves many shades."""
    value = float(app.opacity) * float(app.intensity)
    if app.category in COVERAGE_CATEGORIES:
        value *= float(app.coverage)
    return min(max(value, 0.0), 1.0)
