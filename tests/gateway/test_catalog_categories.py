"""The categories of the imported Makeup API catalog through the real stack: nail polish is
listed (real brands) but not try-on-able (TryOn and StreamTryOn answer FAILED_PRECONDITION),
Recommend leaves it out unless asked for, and the categories that hid in other fields
(concealer, highlighter, contour) list real products of several brands."""

from __future__ import annotations

import grpc
import pytest

from tests.conftest import TEST_DATA, auth
from tests.gateway.test_stream_try_on import Conversation, config, frame
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

NAIL_POLISH = types_pb2.PRODUCT_CATEGORY_NAIL_POLISH
OBAMA = TEST_DATA / "obama.jpg"


@pytest.fixture(scope="module")
def catalog(channel) -> cpb_grpc.CatalogServiceStub:  # type: ignore[no-untyped-def]
    return cpb_grpc.CatalogServiceStub(channel)


def list_category(catalog, category: int) -> list[types_pb2.Product]:  # type: ignore[no-untyped-def]
    out, token = [], ""
    while True:
        page = catalog.ListProducts(
            cpb.ListProductsRequest(category=category, page_size=100, page_token=token),
            metadata=auth(), timeout=30,
        )  # fmt: skip
        out += page.products
        token = page.next_page_token
        if not token:
            return out


@pytest.fixture(scope="module")
def polishes(catalog) -> list[types_pb2.Product]:  # type: ignore[no-untyped-def]
    return list_category(catalog, NAIL_POLISH)


def test_nail_polish_is_listed_with_real_brands(polishes) -> None:  # type: ignore[no-untyped-def]
    assert len(polishes) >= 20
    assert all(p.category == NAIL_POLISH and p.shades for p in polishes)
    assert len({p.brand for p in polishes}) >= 5
    assert "Essie" in {p.brand for p in polishes}


@pytest.mark.parametrize(
    "category",
    [types_pb2.PRODUCT_CATEGORY_CONCEALER, types_pb2.PRODUCT_CATEGORY_HIGHLIGHTER,
     types_pb2.PRODUCT_CATEGORY_CONTOUR, types_pb2.PRODUCT_CATEGORY_BROW,
     types_pb2.PRODUCT_CATEGORY_MASCARA],
)  # fmt: skip
def test_try_on_categories_have_real_brands(catalog, category: int) -> None:  # type: ignore[no-untyped-def]
    brands = {p.brand for p in list_category(catalog, category)}
    assert len(brands) >= 5, brands
    assert not any(b.startswith("tryon Studio") for b in brands)


def test_try_on_with_nail_polish_is_a_failed_precondition(tryon_stub, polishes) -> None:  # type: ignore[no-untyped-def]
    look = types_pb2.Look(applications=[types_pb2.Application(product_id=polishes[0].product_id)])
    request = pb.TryOnRequest(look=look, image=types_pb2.Image(data=OBAMA.read_bytes()))
    with pytest.raises(grpc.RpcError) as err:
        tryon_stub.TryOn(request, metadata=auth(), timeout=60)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = err.value.details()
    assert details.startswith("nail polish cannot be tried on yet: ")
    assert polishes[0].product_id in details


def test_stream_with_nail_polish_answers_each_frame_failed_precondition(  # type: ignore[no-untyped-def]
    tryon_stub, polishes
) -> None:
    talk = Conversation(tryon_stub)
    talk.send(config(polishes[0].product_id))
    reply = talk.ask(frame(OBAMA.read_bytes(), 1))
    assert reply.error.code == grpc.StatusCode.FAILED_PRECONDITION.value[0], reply.error
    assert "nail polish cannot be tried on yet" in reply.error.message
    talk.close()


def test_recommend_leaves_nail_polish_out_unless_asked(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    anything = tryon_stub.Recommend(
        pb.RecommendRequest(k=12, user_id="nail-shopper"), metadata=auth(), timeout=30
    )
    assert anything.recommendations
    assert all(r.product.category != NAIL_POLISH for r in anything.recommendations)
    asked = tryon_stub.Recommend(
        pb.RecommendRequest(k=5, user_id="nail-shopper", categories=[NAIL_POLISH]),
        metadata=auth(),
        timeout=30,
    )
    assert asked.recommendations
    assert all(r.product.category == NAIL_POLISH for r in asked.recommendations)
