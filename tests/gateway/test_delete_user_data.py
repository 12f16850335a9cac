"""DeleteUserData on the real stack: a shopper's events, selfies and face data (named, or
remembered from their requests) are gone from the database and Redis, the served model is
retrained without them, the call is idempotent and audited without personal data, and other
shoppers and tenants keep theirs."""

from __future__ import annotations

import io
import time
import uuid

import grpc
import pytest
import redis
from PIL import Image
from sqlalchemy import create_engine, text

from services.common.redis_keys import face_key, image_key, user_faces_key
from tests.conftest import TEST_DATA, auth
from tryon.v1 import privacy_service_pb2 as ppb
from tryon.v1 import privacy_service_pb2_grpc as ppb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2


def _fresh_selfie() -> bytes:
    """obama.jpg with one pixel changed: a selfie no other test sent (its own face_id)."""
    img = Image.open(TEST_DATA / "obama.jpg").convert("RGB")
    img.putpixel((0, 0), (uuid.uuid4().int % 256, 1, 2))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _events(database_url: str, tenant: str, user_id: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM recsys_events WHERE tenant = :t AND user_id = :u"
            ), {"t": tenant, "u": user_id}).scalar())  # fmt: skip
    finally:
        engine.dispose()


def _record(tryon_stub, tenant: str, user_id: str, product_id: str, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        tryon_stub.RecordEvent(pb.RecordEventRequest(
            event_id=f"del-{user_id}-{i}", user_id=user_id, type=pb.EVENT_TYPE_ADD_TO_CART,
            product_id=product_id), metadata=auth(tenant), timeout=30)  # fmt: skip


@pytest.fixture(scope="module")
def privacy(channel) -> ppb_grpc.PrivacyServiceStub:  # type: ignore[no-untyped-def]
    return ppb_grpc.PrivacyServiceStub(channel)


def test_a_shoppers_data_is_gone_and_nobody_elses(
    tryon_stub, privacy, redis_url: str, database_url: str  # type: ignore[no-untyped-def]
) -> None:
    shopper, neighbour = f"del-{uuid.uuid4().hex[:8]}", f"keep-{uuid.uuid4().hex[:8]}"
    product = "rouge-dior"
    _record(tryon_stub, "alpha", shopper, product, 3)
    _record(tryon_stub, "alpha", neighbour, product, 2)
    _record(tryon_stub, "beta", shopper, product, 2)  # same id, another tenant: not touched
    # A selfie tried on by this shopper (remembered under the user), and one named explicitly.
    tried = tryon_stub.TryOn(pb.TryOnRequest(
        image=types_pb2.Image(data=_fresh_selfie()), user_id=shopper,
        look=types_pb2.Look(applications=[types_pb2.Application(product_id=product)]),
    ), metadata=auth(), timeout=60).geometry.face_id  # fmt: skip
    named = tryon_stub.Reconstruct(pb.ReconstructRequest(
        image=types_pb2.Image(data=_fresh_selfie())), metadata=auth(), timeout=60
    ).geometry.face_id  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    for face_id in (tried, named):
        assert client.exists(image_key("alpha", face_id), face_key("alpha", face_id)) == 2
    deadline = time.monotonic() + 10  # TryOn's try-on events are recorded asynchronously
    while _events(database_url, "alpha", shopper) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _events(database_url, "alpha", shopper) == 4  # 3 add-to-cart + 1 try-on

    reply = privacy.DeleteUserData(ppb.DeleteUserDataRequest(user_id=shopper, face_ids=[named]),
                                   metadata=auth(), timeout=60)  # fmt: skip
    assert (reply.deleted_events, reply.deleted_faces) == (4, 2)
    assert _events(database_url, "alpha", shopper) == 0
    assert _events(database_url, "alpha", neighbour) == 2
    assert _events(database_url, "beta", shopper) == 2
    for face_id in (tried, named):
        assert client.exists(image_key("alpha", face_id), face_key("alpha", face_id)) == 0
    assert not client.exists(user_faces_key("alpha", shopper))
    with pytest.raises(grpc.RpcError) as err:  # the selfie is gone for every later call
        tryon_stub.TryOn(pb.TryOnRequest(face_id=tried, look=types_pb2.Look(
            applications=[types_pb2.Application(product_id=product)])), metadata=auth(),
            timeout=30)  # fmt: skip
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    again = privacy.DeleteUserData(ppb.DeleteUserDataRequest(user_id=shopper),
                                   metadata=auth(), timeout=60)  # fmt: skip
    assert (again.deleted_events, again.deleted_faces) == (0, 0)  # idempotent

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT * FROM privacy_deletions WHERE tenant = 'alpha' "
                "AND deleted_events = 4 AND deleted_faces = 2"
            )).mappings().all()  # fmt: skip
    finally:
        engine.dispose()
    assert len(rows) == 1
    audit = " ".join(str(v) for v in rows[0].values())
    assert shopper not in audit and tried not in audit and named not in audit


def test_the_served_model_is_retrained_without_them(tryon_stub, privacy) -> None:  # type: ignore[no-untyped-def]
    shopper = f"del-{uuid.uuid4().hex[:8]}"
    _record(tryon_stub, "alpha", shopper, "rouge-dior", 2)
    before = tryon_stub.Recommend(pb.RecommendRequest(user_id=shopper, k=3), metadata=auth(),
                                  timeout=30).model_version  # fmt: skip
    privacy.DeleteUserData(ppb.DeleteUserDataRequest(user_id=shopper), metadata=auth(),
                           timeout=60)  # fmt: skip
    deadline = time.monotonic() + 60
    version = before
    while version == before and time.monotonic() < deadline:
        time.sleep(0.5)
        version = tryon_stub.Recommend(pb.RecommendRequest(user_id=shopper, k=3),
                                       metadata=auth(), timeout=30).model_version  # fmt: skip
    assert version != before, "no model trained after the deletion"


@pytest.mark.parametrize(
    ("request_fields", "words"),
    [
        ({}, "name the shopper"),
        ({"face_ids": ["not-a-face"]}, "malformed"),
        ({"face_ids": ["0" * 32] * 101}, "at most 100"),
        ({"user_id": "x" * 200}, "user_id"),
    ],
)
def test_bad_requests_are_refused(privacy, request_fields: dict, words: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    with pytest.raises(grpc.RpcError) as err:
        privacy.DeleteUserData(ppb.DeleteUserDataRequest(**request_fields), metadata=auth(),
                               timeout=30)  # fmt: skip
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in err.value.details()
