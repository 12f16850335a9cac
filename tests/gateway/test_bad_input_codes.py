"""Wrong status codes found by a hostile read of the API (issue 10's list), each refused at the
edge with INVALID_ARGUMENT and a short message that says what to fix, never INTERNAL, never a
value echoed back at length."""

from __future__ import annotations

import math

import grpc
import pytest

from tests.conftest import auth
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

HUGE = "x" * 20_000


def _refused(call, request, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        call(request, metadata=auth(), timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    details = err.value.details()
    assert words in details and len(details) < 400, details


@pytest.mark.parametrize("field", ["lab_a", "lab_b", "lab_l"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_skin_colours_must_be_finite(tryon_stub, field: str, value: float) -> None:  # type: ignore[no-untyped-def]
    values = {"lab_l": 60.0, "lab_a": 10.0, "lab_b": 15.0, field: value}
    skin = pb.SkinAttributes(**values)
    _refused(tryon_stub.Recommend, pb.RecommendRequest(skin=skin, k=3), field)


def test_an_event_time_before_2000_is_refused(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    for seconds in (-(2**62), -1, 0):
        request = pb.RecordEventRequest(
            event_id=f"time-{seconds}", user_id="u", type=pb.EVENT_TYPE_TRY_ON,
            product_id="rouge-dior",
        )  # fmt: skip
        request.time.seconds = seconds
        request.time.nanos = 1 if seconds == 0 else 0
        _refused(tryon_stub.RecordEvent, request, "time")


def test_long_ids_are_refused_not_echoed(tryon_stub, channel) -> None:  # type: ignore[no-untyped-def]
    catalog = cpb_grpc.CatalogServiceStub(channel)
    _refused(catalog.GetProduct, cpb.GetProductRequest(product_id=HUGE), "product_id")
    _refused(catalog.ListProducts, cpb.ListProductsRequest(brand="x" * 1_000_000), "brand")
    _refused(catalog.ListProducts, cpb.ListProductsRequest(colour_family=HUGE), "colour_family")
    _refused(catalog.ListProducts, cpb.ListProductsRequest(page_token=HUGE), "page_token")
    look = types_pb2.Look(applications=[types_pb2.Application(product_id=HUGE)])
    _refused(tryon_stub.TryOn, pb.TryOnRequest(face_id="0" * 32, look=look), "product_id")
    look = types_pb2.Look(applications=[types_pb2.Application(product_id="rouge-dior",
                                                              shade_id=HUGE)])  # fmt: skip
    _refused(tryon_stub.TryOn, pb.TryOnRequest(face_id="0" * 32, look=look), "shade_id")
