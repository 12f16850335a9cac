"""Recommend, RecordEvent and shade matching end to end: gateway -> Celery -> recsys worker ->
the catalog database, with real products, a real selfie and real retraining."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from scripts.stack import Stack
from services.common.celery_app import TRAIN_TASK, create_app
from services.common.color import ciede2000, hex_to_lab
from services.recsys.event_store import EventStore
from tests.conftest import API_KEYS, TEST_DATA, auth, free_port
from tests.gateway.test_reconstruct import run_cli
from tests.gateway.test_worker_failures import pool_children
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

OBAMA = TEST_DATA / "obama.jpg"
FOUNDATION = types_pb2.PRODUCT_CATEGORY_FOUNDATION


@pytest.fixture(scope="module")
def catalog(channel) -> cpb_grpc.CatalogServiceStub:  # type: ignore[no-untyped-def]
    return cpb_grpc.CatalogServiceStub(channel)


def products(catalog, category: int, n: int, tenant: str = "alpha") -> list[types_pb2.Product]:  # type: ignore[no-untyped-def]
    request = cpb.ListProductsRequest(category=category, page_size=n)
    page = catalog.ListProducts(request, metadata=auth(tenant), timeout=10)
    assert len(page.products) == n
    return list(page.products)


def event(user: str, kind: int, product: str, when_s: float, **kw) -> pb.RecordEventRequest:  # type: ignore[no-untyped-def]
    stamp = Timestamp()
    stamp.FromMilliseconds(int(when_s * 1000))
    return pb.RecordEventRequest(event_id=kw.pop("event_id", uuid.uuid4().hex), user_id=user,
                                 type=kind, product_id=product, time=stamp, **kw)  # fmt: skip


def record(stub, request, tenant: str = "alpha") -> bool:  # type: ignore[no-untyped-def]
    return stub.RecordEvent(request, metadata=auth(tenant), timeout=20).created


def recommend(stub, tenant: str = "alpha", **kw) -> pb.RecommendResponse:  # type: ignore[no-untyped-def]
    return stub.Recommend(pb.RecommendRequest(**kw), metadata=auth(tenant), timeout=30)


def stored_history(database_url: str, user: str) -> list:  # type: ignore[type-arg]
    """What the event database holds for alpha's `user`, read directly."""
    store = EventStore(database_url)
    try:
        return store.history("alpha", user)
    finally:
        store.dispose()


def error(fn) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        fn()
    print(f"{err.value.code().name}: {err.value.details()}")
    return err.value


def test_record_event_is_idempotent_and_checked(tryon_stub, catalog) -> None:  # type: ignore[no-untyped-def]
    # A public product (both tenants see it; alpha's own products are alpha's alone).
    lipstick = products(catalog, types_pb2.PRODUCT_CATEGORY_LIPSTICK, 1, tenant="beta")[0]
    request = event("shopper-1", pb.EVENT_TYPE_ADD_TO_CART, lipstick.product_id, time.time())
    assert record(tryon_stub, request) is True
    assert record(tryon_stub, request) is False  # the retry of a lost reply lands once
    assert record(tryon_stub, request, tenant="beta") is True  # event ids are per tenant
    cases = [
        (event("u", pb.EVENT_TYPE_PURCHASE, "no-such-product", time.time()),
         grpc.StatusCode.NOT_FOUND, "no-such-product"),
        (event("u", pb.EVENT_TYPE_UNSPECIFIED, lipstick.product_id, time.time()),
         grpc.StatusCode.INVALID_ARGUMENT, "type"),
        (event("u", pb.EVENT_TYPE_RATING, lipstick.product_id, time.time(), rating=9),
         grpc.StatusCode.INVALID_ARGUMENT, "1..5"),
        (event("", pb.EVENT_TYPE_TRY_ON, lipstick.product_id, time.time()),
         grpc.StatusCode.INVALID_ARGUMENT, "user_id"),
    ]  # fmt: skip
    for request, code, word in cases:
        err = error(lambda r=request: record(tryon_stub, r))
        assert err.code() == code and word in err.details()


def test_cold_start_from_a_selfie_is_skin_aware(tryon_stub) -> None:  # type: ignore[no-untyped-def]
    geometry = tryon_stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=OBAMA.read_bytes())),
        metadata=auth(), timeout=30,
    ).geometry  # fmt: skip
    tone = geometry.faces[0].skin_tone
    response = recommend(tryon_stub, face_id=geometry.face_id, k=8)
    assert len(response.recommendations) == 8
    assert len({r.product.product_id for r in response.recommendations}) == 8
    assert len({r.product.category for r in response.recommendations}) >= 3, "a whole face"
    assert all(r.reason for r in response.recommendations)
    scores = [r.score for r in response.recommendations]
    assert scores == sorted(scores, reverse=True)
    undertone = {1: "cool", 2: "neutral", 3: "warm"}[tone.undertone]
    assert any(undertone in r.reason or "skin" in r.reason for r in response.recommendations)
    for r in response.recommendations:
        print(f"  {r.product.category} {r.product.brand} {r.product.name}: {r.reason}")


def test_selfie_recommendations_read_recons_cache_not_the_gateway(  # type: ignore[no-untyped-def]
    tryon_stub, stack: Stack, redis_url: str
) -> None:
    """Recommend by face_id is one task to recsys, which reads the skin from recon's cached
    geometry (no recon round trip through the gateway); with the cache gone but the selfie
    still stored, recsys asks recon itself; with both gone, NOT_FOUND."""
    import redis

    from services.common.redis_keys import face_key, image_key
    from tests.gateway.test_reconstruct import metric_value

    image = OBAMA.read_bytes() + uuid.uuid4().bytes  # distinct bytes: a fresh face_id
    face_id = tryon_stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=image)), metadata=auth(), timeout=30
    ).geometry.face_id
    recon_port = stack.worker_metrics_ports["recon"]

    def recon_calls() -> float:
        return metric_value(recon_port, "tryon_task_duration_seconds_count",
                            task="recon.reconstruct")  # fmt: skip

    before = recon_calls()
    cached = recommend(tryon_stub, face_id=face_id, categories=[FOUNDATION], k=3)
    assert recon_calls() == before, "the cached geometry serves: no recon task"
    client = redis.Redis.from_url(redis_url)
    assert client.delete(face_key("alpha", face_id)) == 1
    asked = recommend(tryon_stub, face_id=face_id, categories=[FOUNDATION], k=3)
    assert recon_calls() == before + 1, "no cache: recsys asked recon once"
    assert [m.shade_id for m in asked.recommendations] == [
        m.shade_id for m in cached.recommendations
    ]
    client.delete(face_key("alpha", face_id), image_key("alpha", face_id))
    err = error(lambda: recommend(tryon_stub, face_id=face_id, k=3))
    assert err.code() == grpc.StatusCode.NOT_FOUND and "send it again" in err.details()


def test_shade_match_is_the_nearest_by_ciede2000(tryon_stub, catalog) -> None:  # type: ignore[no-untyped-def]
    skin = pb.SkinAttributes(lab_l=55.0, lab_a=12.0, lab_b=22.0, monk_bucket=5,
                             undertone=types_pb2.UNDERTONE_WARM)  # fmt: skip
    response = recommend(tryon_stub, skin=skin, categories=[FOUNDATION], k=5)
    matches = response.recommendations
    assert len(matches) == 5 and len({m.product.brand for m in matches}) >= 2
    deltas = [m.delta_e for m in matches]
    assert deltas == sorted(deltas) and deltas[0] < 3.0
    for m in matches:  # the reported ΔE is the real CIEDE2000 of the returned shade
        shade = next(s for s in m.product.shades if s.shade_id == m.shade_id)
        assert abs(float(ciede2000((55.0, 12.0, 22.0), hex_to_lab(shade.hex))) - m.delta_e) < 0.01
        # and no other shade of that product is closer
        others = ciede2000((55.0, 12.0, 22.0), hex_to_lab([s.hex for s in m.product.shades]))
        assert float(np.min(others)) >= m.delta_e - 1e-3
    print("shade match: " + ", ".join(f"{m.product.brand} {m.delta_e:.2f}" for m in matches))


def test_a_face_and_a_known_shopper_together(tryon_stub, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    """The studio knows the selfie and the shopper: face_id + shopper_user_id matches shades to
    the face and counts the shopper's history (a buyer is not offered what they bought)."""
    from tryon import Client

    face_id = tryon_stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=OBAMA.read_bytes())),
        metadata=auth(), timeout=30,
    ).geometry.face_id  # fmt: skip
    anonymous = recommend(tryon_stub, face_id=face_id, categories=[FOUNDATION], k=3)
    bought = anonymous.recommendations[0].product.product_id
    shopper = f"studio-{uuid.uuid4().hex[:8]}"
    now = time.time() - 60
    record(tryon_stub, event(shopper, pb.EVENT_TYPE_ADD_TO_CART, bought, now))
    record(tryon_stub, event(shopper, pb.EVENT_TYPE_PURCHASE, bought, now + 1))
    with Client(stack.grpc_addr, api_key=API_KEYS["alpha"]) as client:
        known = client.recommend(face_id=face_id, shopper_user_id=shopper,
                                 categories=[FOUNDATION], k=3)  # fmt: skip
    ids = [r.product.product_id for r in known.recommendations]
    assert len(ids) == 3 and bought not in ids, "the shopper's purchase counts"
    assert all(r.reason and r.delta_e > 0 for r in known.recommendations), "still a shade match"
    assert bought in [r.product.product_id for r in recommend(
        tryon_stub, face_id=face_id, categories=[FOUNDATION], k=3).recommendations]  # fmt: skip
    same = recommend(tryon_stub, user_id=shopper, shopper_user_id=shopper, k=2)
    assert len(same.recommendations) == 2
    for kw, word in [
        ({"user_id": shopper, "shopper_user_id": "someone-else"}, "different shoppers"),
        ({"face_id": face_id, "shopper_user_id": "x" * 200}, "shopper_user_id"),
        ({"shopper_user_id": shopper}, "set one of user_id"),
    ]:
        err = error(lambda kw=kw: recommend(tryon_stub, k=3, **kw))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and word in err.details()


@pytest.mark.parametrize("k", [0, 10_000])
def test_k_out_of_range(tryon_stub, k: int) -> None:  # type: ignore[no-untyped-def]
    err = error(lambda: recommend(tryon_stub, user_id="anyone", k=k))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "1..100" in err.details()


def _train_and_wait(tryon_stub, stack: Stack, before: str) -> str:  # type: ignore[no-untyped-def]
    app = create_app()
    app.conf.broker_url = stack.redis_url
    app.send_task(TRAIN_TASK, kwargs={"payload": {"reason": "test"}})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        version = recommend(tryon_stub, user_id="probe", k=1).model_version
        if version != before:
            return version
        time.sleep(0.5)
    raise AssertionError("the retrained model never reached the workers")


def test_history_drives_recommendations_after_retraining(tryon_stub, catalog, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    lipsticks = products(catalog, types_pb2.PRODUCT_CATEGORY_LIPSTICK, 3)
    blushes = products(catalog, types_pb2.PRODUCT_CATEGORY_BLUSH, 3)
    now = time.time() - 3600
    # Shoppers who try lipstick 0 go on to buy blush 2: a pattern only behaviour can teach.
    for u in range(6):
        record(
            tryon_stub,
            event(f"pattern-{u}", pb.EVENT_TYPE_TRY_ON, lipsticks[0].product_id, now + u),
        )
        record(
            tryon_stub,
            event(f"pattern-{u}", pb.EVENT_TYPE_PURCHASE, blushes[2].product_id, now + u + 1),
        )
    record(tryon_stub, event("newcomer", pb.EVENT_TYPE_TRY_ON, lipsticks[0].product_id, now + 10))
    before = recommend(tryon_stub, user_id="probe", k=1).model_version
    version = _train_and_wait(tryon_stub, stack, before)
    response = recommend(
        tryon_stub, user_id="newcomer", categories=[types_pb2.PRODUCT_CATEGORY_BLUSH], k=3
    )
    assert response.model_version == version
    top = response.recommendations[0]
    assert top.product.product_id == blushes[2].product_id
    assert "you tried" in top.reason and lipsticks[0].name in top.reason
    # Another tenant cannot reach alpha's shoppers: the same id is a stranger there.
    other = recommend(tryon_stub, tenant="beta", user_id="newcomer", k=3)
    assert not any("you " in r.reason for r in other.recommendations)
    # A buyer is not offered what they bought.
    bought = recommend(
        tryon_stub, user_id="pattern-0", categories=[types_pb2.PRODUCT_CATEGORY_BLUSH], k=3
    )
    assert blushes[2].product_id not in [r.product.product_id for r in bought.recommendations]


def test_try_on_with_a_user_records_try_on_events(tryon_stub, catalog, database_url: str) -> None:  # type: ignore[no-untyped-def]
    lipstick = products(catalog, types_pb2.PRODUCT_CATEGORY_LIPSTICK, 2)[1]
    user = f"tryer-{uuid.uuid4().hex[:8]}"
    tryon_stub.TryOn(
        pb.TryOnRequest(image=types_pb2.Image(data=OBAMA.read_bytes()), user_id=user,
                        look=types_pb2.Look(applications=[
                            types_pb2.Application(product_id=lipstick.product_id)])),
        metadata=auth(), timeout=60,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not (history := stored_history(database_url, user)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [(e.type, e.product_id) for e in history] == [("try_on", lipstick.product_id)]


def test_no_event_lost_when_the_worker_dies(
    tryon_stub, catalog, stack: Stack, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    """Events in flight while the recsys pool child is killed: each call either succeeds (and
    is stored) or fails and is retried by the caller with the same event_id; in the end every
    event is stored exactly once."""
    lipstick = products(catalog, types_pb2.PRODUCT_CATEGORY_LIPSTICK, 1)[0]
    user = f"crash-{uuid.uuid4().hex[:8]}"
    requests = [event(user, pb.EVENT_TYPE_TRY_ON, lipstick.product_id, time.time() + i)
                for i in range(60)]  # fmt: skip
    parent = stack.pid("recsys")
    (child,) = pool_children(parent)
    futures = [tryon_stub.RecordEvent.future(r, metadata=auth(), timeout=20) for r in requests]
    while not any(f.done() for f in futures):  # the worker is busy with the batch now
        time.sleep(0.005)
    os.kill(child, signal.SIGKILL)
    failures = 0
    for request, future in zip(requests, futures, strict=True):
        try:
            future.result()
            continue
        except grpc.RpcError:
            failures += 1
        for _attempt in range(20):  # the retry a partner does, same event_id
            try:
                record(tryon_stub, request)
                break
            except grpc.RpcError:
                time.sleep(0.5)
        else:
            raise AssertionError("an event could not be recorded after the worker restarted")
    deadline = time.monotonic() + 30
    while child in pool_children(parent) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert child not in pool_children(parent), "the killed child was not replaced"
    stored = stored_history(database_url, user)
    print(f"\n{failures} of {len(requests)} calls failed during the crash and were retried")
    assert len(stored) == len(requests)
    assert Path(f"/proc/{parent}").exists(), "the worker itself survived"


def test_cli_shade_match_and_recommend(stack: Stack) -> None:
    doc = json.loads(run_cli(stack, "shade-match", str(OBAMA), "-k", "3", "--json"))
    deltas = [r["delta_e"] for r in doc["recommendations"]]
    assert len(deltas) == 3 and deltas == sorted(deltas)
    assert all(r["product"]["category"] == "PRODUCT_CATEGORY_FOUNDATION"
               for r in doc["recommendations"])  # fmt: skip
    text = run_cli(stack, "recommend", "--image", str(OBAMA), "--category", "lipstick", "-k", "2")
    lines = [line for line in text.splitlines() if line.lstrip()[:3] in ("1. ", "2. ")]
    assert len(lines) == 2, text
    assert "undertone" in text or "skin" in text, text
    text = run_cli(stack, "recommend", "--user", "nobody-yet", "-k", "2")
    assert "model " in text


def test_no_event_lost_when_redis_restarts(tmp_path: Path, database_url: str) -> None:
    """A stack of its own on a private Redis (the machine's is shared): Redis is killed and
    restarted empty in the middle of a stream of events. Calls that fail are retried with the
    same event_id; every event ends up stored exactly once, and the stack recovers by itself."""
    keys = tmp_path / "keys.txt"
    keys.write_text(f"alpha:{API_KEYS['alpha']}\n")
    stack = Stack(
        var_dir=tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0",
        grpc_addr=f"127.0.0.1:{free_port()}", gateway_metrics_port=free_port(),
        worker_metrics_ports={"recsys": free_port()}, services=("recsys",),
        api_keys_file=keys, extra_env={"DATABASE_URL": database_url},
    )  # fmt: skip
    stack.up(timeout_s=120)  # nothing answers on that port: it starts a private redis-server
    user = f"redis-crash-{uuid.uuid4().hex[:8]}"
    try:
        with grpc.insecure_channel(stack.grpc_addr) as channel:
            stub = pb_grpc.TryOnServiceStub(channel)
            requests = [event(user, pb.EVENT_TYPE_TRY_ON, "rouge-dior", time.time() + i)
                        for i in range(30)]  # fmt: skip
            failures = 0
            for i, request in enumerate(requests):
                if i == 10:
                    os.kill(stack.pid("redis"), signal.SIGKILL)
                    time.sleep(0.5)
                    stack.ensure_redis()  # back, empty: the queues and replies are gone
                for _attempt in range(60):
                    try:
                        stub.RecordEvent(request, metadata=auth(), timeout=5)
                        break
                    except grpc.RpcError:
                        failures += 1
                        time.sleep(0.5)
                else:
                    raise AssertionError("events could not be recorded after Redis came back")
    finally:
        stack.down()
    stored = stored_history(database_url, user)
    print(f"\n{failures} calls failed while Redis restarted and were retried")
    assert len(stored) == len(requests)
