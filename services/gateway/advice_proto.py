"""Advise and SearchProducts messages: API protos <-> task payloads, checked before queueing."""

from __future__ import annotations

import unicodedata

import grpc

from services.common.payloads import AdviceSlotsPayload, AdviceTurnPayload
from services.gateway.product_proto import CATEGORIES, FINISH_ENUMS
from services.gateway.rpc import RpcError
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

MAX_MESSAGE = 2000
MAX_SEARCH_TEXT = 500
MAX_HISTORY = 20
DEFAULT_K = 6
MAX_K = 12
ROLES = ("shopper", "advisor")
_CATEGORY_ENUMS = {name: value for value, name in CATEGORIES.items()}


def _invalid(message: str) -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


def clean_text(text: str, field: str, limit: int, required: bool = True) -> str:
    """Trimmed, control characters (not line breaks) dropped; the words themselves are never
    interpreted as instructions, only read for makeup words."""
    cleaned = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
    ).strip()  # fmt: skip
    if required and not cleaned:
        raise _invalid(f"{field} is empty: write what you are looking for, e.g. 'a matte red "
                       "lipstick under $20' or '想要一支豆沙色口红'")  # fmt: skip
    if len(cleaned) > limit:
        raise _invalid(f"{field} is {len(cleaned)} characters; send at most {limit}")
    return cleaned


def history_from(request: pb.AdviseRequest) -> list[AdviceTurnPayload]:
    if len(request.history) > MAX_HISTORY:
        raise _invalid(f"history has {len(request.history)} turns; send at most the last "
                       f"{MAX_HISTORY}")  # fmt: skip
    turns = []
    for i, turn in enumerate(request.history):
        if turn.role not in ROLES:
            raise _invalid(f"history[{i}].role is {turn.role!r}: use 'shopper' or 'advisor'")
        turns.append(AdviceTurnPayload(
            role=turn.role,  # type: ignore[arg-type]
            text=clean_text(turn.text, f"history[{i}].text", MAX_MESSAGE, required=False),
        ))  # fmt: skip
    return turns


def check_advise_k(k: int) -> int:
    if k == 0:
        return DEFAULT_K
    if not 1 <= k <= MAX_K:
        raise _invalid(f"k is {k}; ask for 1..{MAX_K} products (0 for {DEFAULT_K})")
    return k


def slots_proto(slots: AdviceSlotsPayload | None) -> types_pb2.AdviceSlots:
    if slots is None:
        return types_pb2.AdviceSlots()
    proto = types_pb2.AdviceSlots(
        categories=[_CATEGORY_ENUMS[c] for c in slots.categories if c in _CATEGORY_ENUMS],
        colour_hex=slots.colour_hex, colour_name=slots.colour_name,
        colour_family=slots.colour_family,
        finish=FINISH_ENUMS.get(slots.finish, types_pb2.FINISH_UNSPECIFIED),
        excluded_finishes=[FINISH_ENUMS[f] for f in slots.excluded_finishes if f in FINISH_ENUMS],
        occasion=slots.occasion, intensity=slots.intensity, brands=slots.brands,
        excluded_brands=slots.excluded_brands, adjustments=slots.adjustments,
        language=slots.language, out_of_scope=slots.out_of_scope,
    )  # fmt: skip
    if slots.max_price_minor is not None:
        proto.max_price.CopyFrom(types_pb2.Money(currency="USD",
                                                 amount_minor=slots.max_price_minor))  # fmt: skip
    return proto
