"""Looks and output formats from API messages, checked before any work is queued."""

from __future__ import annotations

import math

import grpc

from services.common.payloads import AppliedProduct
from services.gateway.rpc import RpcError
from tryon.v1 import types_pb2

# A real face takes at most a dozen products at once; more is a client bug (or abuse).
MAX_LOOK_APPLICATIONS = 20
ZONES = ("lid", "crease", "outer_corner")
OUTPUT_FORMATS = {
    "": ("jpeg", "image/jpeg"),
    "image/jpeg": ("jpeg", "image/jpeg"),
    "image/jpg": ("jpeg", "image/jpeg"),
    "image/png": ("png", "image/png"),
    "image/webp": ("webp", "image/webp"),
}


def _invalid(message: str) -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


def look_from_proto(
    look: types_pb2.Look, *, allow_empty: bool = False, field: str = "look"
) -> list[AppliedProduct]:
    """The one place a look is checked: shape, ids, intensity, zone. The catalog then only
    resolves ids (unknown ones are NOT_FOUND)."""
    apps = look.applications
    if not apps and not allow_empty:
        raise _invalid(f"{field}.applications is empty: add at least one product")
    if len(apps) > MAX_LOOK_APPLICATIONS:
        raise _invalid(
            f"{field} has {len(apps)} applications; at most {MAX_LOOK_APPLICATIONS} are allowed"
        )
    out = []
    for i, app in enumerate(apps):
        where = f"{field}.applications[{i}]"
        if not app.product_id:
            raise _invalid(f"{where}.product_id is empty")
        if len(app.product_id) > 128 or len(app.shade_id) > 64:
            raise _invalid(f"{where}: product_id is at most 128 and shade_id 64 characters")
        intensity = app.intensity
        if not math.isfinite(intensity) or intensity < 0 or intensity > 1:
            raise _invalid(f"{where}.intensity is {intensity}; use 0..1 (0 means 1)")
        if app.zone and app.zone not in ZONES:
            raise _invalid(f"{where}.zone is {app.zone[:40]!r}; use one of {', '.join(ZONES)}")
        out.append(
            AppliedProduct(
                product_id=app.product_id,
                shade_id=app.shade_id,
                intensity=intensity or 1.0,
                zone=app.zone or None,
            )
        )
    return out


def output_format(content_type: str) -> tuple[str, str]:
    try:
        return OUTPUT_FORMATS[content_type.strip().lower()]
    except KeyError:
        raise _invalid(
            f"output_content_type {content_type!r} is not supported: use image/jpeg, "
            "image/png or image/webp"
        ) from None
