"""Recommend and RecordEvent messages: API protos <-> task payloads, checked before queueing."""

from __future__ import annotations

import math
import time

import grpc
from pydantic import ValidationError

from services.common.payloads import (
    EventPayload,
    RecommendationPayload,
    SkinAttributesPayload,
)
from services.gateway.geometry_proto import UNDERTONE_ENUMS
from services.gateway.product_proto import category_name, product_proto
from services.gateway.rpc import RpcError
from tryon.v1 import tryon_service_pb2 as pb

MAX_K = 100
# Events before this are a client's bug (an unset or wrapped clock), not shopping history.
EARLIEST_EVENT_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_ID_LENGTH = 128
EVENT_TYPES = {
    pb.EVENT_TYPE_TRY_ON: "try_on",
    pb.EVENT_TYPE_ADD_TO_CART: "add_to_cart",
    pb.EVENT_TYPE_PURCHASE: "purchase",
    pb.EVENT_TYPE_RATING: "rating",
}
UNDERTONES = {value: name for name, value in UNDERTONE_ENUMS.items()}


def _invalid(message: str) -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


def check_id(value: str, field: str) -> str:
    if not value:
        raise _invalid(f"{field} is empty: set it")
    if len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise _invalid(f"{field} must be 1..{MAX_ID_LENGTH} printable characters")
    return value


def check_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise _invalid(f"k is {k}; ask for 1..{MAX_K} recommendations")
    return k


def categories_from(request: pb.RecommendRequest) -> list[str]:
    names = [category_name(c, "categories[]") for c in request.categories]
    return list(dict.fromkeys(n for n in names if n))


def skin_from_request(skin: pb.SkinAttributes) -> SkinAttributesPayload:
    for name in ("lab_l", "lab_a", "lab_b"):
        if not math.isfinite(getattr(skin, name)):
            raise _invalid(f"skin.{name} is {getattr(skin, name)}: send a finite CIELAB value")
    lab = (skin.lab_l, skin.lab_a, skin.lab_b)
    has_lab = any(lab)
    if has_lab and not 0.0 <= skin.lab_l <= 100.0:
        raise _invalid(f"skin.lab_l is {skin.lab_l}: CIELAB L* is 0..100")
    if skin.monk_bucket and not 1 <= skin.monk_bucket <= 10:
        raise _invalid(f"skin.monk_bucket is {skin.monk_bucket}: the Monk scale is 1..10")
    undertone = UNDERTONES.get(skin.undertone)
    if not (has_lab or skin.monk_bucket or undertone):
        raise _invalid("skin is empty: set lab_*, monk_bucket or undertone (or send a face_id)")
    return SkinAttributesPayload(
        lab=lab if has_lab else None, monk_bucket=skin.monk_bucket or None, undertone=undertone
    )


def event_from_request(request: pb.RecordEventRequest) -> EventPayload:
    kind = EVENT_TYPES.get(request.type)
    if kind is None:
        raise _invalid("type is unset or unknown: use an EventType (TRY_ON, ADD_TO_CART, ...)")
    if kind == "rating" and not 1 <= request.rating <= 5:
        raise _invalid(f"rating is {request.rating}: a RATING event needs rating 1..5")
    if kind != "rating" and request.rating:
        raise _invalid("rating is only for RATING events: leave it 0")
    when_ms = (
        request.time.seconds * 1000 + request.time.nanos // 1_000_000
        if request.HasField("time")
        else int(time.time() * 1000)
    )
    if when_ms < EARLIEST_EVENT_MS:
        raise _invalid("time is before 2000-01-01: send the event's real time (UTC), or leave it "
                       "unset for now")  # fmt: skip
    if when_ms > (time.time() + 86400) * 1000:
        raise _invalid("time is more than a day in the future: send the event's real time (UTC)")
    try:
        return EventPayload(
            event_id=check_id(request.event_id, "event_id"),
            user_id=check_id(request.user_id, "user_id"),
            type=kind,
            product_id=check_id(request.product_id, "product_id"),
            shade_id=request.shade_id,
            occurred_at_ms=max(when_ms, 0),
            rating=request.rating,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _invalid(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def recommendation_proto(
    item: RecommendationPayload, swatch_base_url: str = ""
) -> pb.Recommendation:
    return pb.Recommendation(
        product=product_proto(item.product, swatch_base_url), shade_id=item.shade_id,
        score=item.score,
        reason=item.reason, delta_e=item.delta_e,
    )  # fmt: skip
