"""Publishable keys on the real stack (gateway, workers, Redis, the database): created with a
secret key and shown once; scoped to try-on, catalog reads, recommendations and events; acting
as their tenant only; revoked everywhere within the cache TTL; limited per minute in Redis."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from services.common.redis_keys import face_id_for
from tests.conftest import API_KEYS, TEST_DATA, TEST_KEY_CACHE_TTL_S, auth
from tests.gateway.test_try_on import first_product
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import job_service_pb2 as jpb
from tryon.v1 import job_service_pb2_grpc as jpb_grpc
from tryon.v1 import key_service_pb2 as kpb
from tryon.v1 import key_service_pb2_grpc as kpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

OBAMA = TEST_DATA / "obama.jpg"
SHOP = "https://shop.example.com"


@pytest.fixture(scope="module")
def keys(channel: grpc.Channel) -> kpb_grpc.KeyServiceStub:
    return kpb_grpc.KeyServiceStub(channel)


@pytest.fixture(scope="module")
def catalog(channel: grpc.Channel) -> cpb_grpc.CatalogServiceStub:
    return cpb_grpc.CatalogServiceStub(channel)


def with_key(key: str) -> tuple[tuple[str, str]]:
    return (("x-api-key", key),)


def create(keys, tenant: str = "alpha", origins=(SHOP,), rpm: int = 0, label: str = ""):  # type: ignore[no-untyped-def]
    request = kpb.CreatePublishableKeyRequest(
        allowed_origins=list(origins), requests_per_minute=rpm, label=label
    )
    return keys.CreatePublishableKey(request, metadata=auth(tenant), timeout=10)


def describe(keys, key: str) -> kpb.PublishableKey:  # type: ignore[no-untyped-def]
    return keys.DescribePublishableKey(
        kpb.DescribePublishableKeyRequest(), metadata=with_key(key), timeout=10
    )


def listed(keys, tenant: str = "alpha") -> dict[str, kpb.PublishableKey]:  # type: ignore[no-untyped-def]
    reply = keys.ListPublishableKeys(
        kpb.ListPublishableKeysRequest(), metadata=auth(tenant), timeout=10
    )
    return {k.key_id: k for k in reply.keys}


def error(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    print(f"{err.value.code().name}: {err.value.details()}")
    return err.value


def test_create_shows_the_key_once_and_list_never(keys) -> None:  # type: ignore[no-untyped-def]
    created = create(
        keys, origins=["HTTPS://Shop.Example.com:443", "http://localhost:8080"], label="pdp"
    )
    assert re.fullmatch(r"pk_[A-Za-z0-9_-]{32}", created.key)
    assert re.fullmatch(r"pkid_[0-9a-f]{24}", created.key_id)
    assert list(created.allowed_origins) == [SHOP, "http://localhost:8080"]
    assert created.requests_per_minute == 600 and created.label == "pdp"
    assert created.created_at.seconds > 0 and not created.HasField("revoked_at")
    mine = listed(keys)
    assert created.key_id in mine
    assert mine[created.key_id].key == "" and not mine[created.key_id].HasField("revoked_at")
    assert created.key.encode() not in b"".join(k.SerializeToString() for k in mine.values())


def test_publishable_key_tries_on_and_reads_the_catalog(keys, catalog, tryon_stub) -> None:  # type: ignore[no-untyped-def]
    key = create(keys).key
    products = catalog.ListProducts(
        cpb.ListProductsRequest(category=types_pb2.PRODUCT_CATEGORY_LIPSTICK, page_size=3),
        metadata=with_key(key), timeout=10,
    ).products  # fmt: skip
    assert products
    lipstick = catalog.GetProduct(
        cpb.GetProductRequest(product_id=products[0].product_id), metadata=with_key(key),
        timeout=10,
    )  # fmt: skip
    assert lipstick.product_id == products[0].product_id
    data = OBAMA.read_bytes()
    geometry = tryon_stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=data)), metadata=with_key(key),
        timeout=60,
    ).geometry  # fmt: skip
    assert len(geometry.faces) == 1 and len(geometry.faces[0].landmarks) == 478
    result = tryon_stub.TryOn(
        pb.TryOnRequest(face_id=geometry.face_id, output_content_type="image/png",
                        look=types_pb2.Look(applications=[
                            types_pb2.Application(product_id=lipstick.product_id)])),
        metadata=with_key(key), timeout=60,
    )  # fmt: skip
    assert result.image.content_type == "image/png" and result.image.data[:4] == b"\x89PNG"
    assert describe(keys, key).allowed_origins == [SHOP]


def test_publishable_key_cannot_manage_anything(keys, catalog, channel) -> None:  # type: ignore[no-untyped-def]
    key = with_key(create(keys).key)
    jobs = jpb_grpc.JobServiceStub(channel)
    calls = {
        "UpsertProducts": lambda: catalog.UpsertProducts(
            cpb.UpsertProductsRequest(), metadata=key, timeout=10),
        "RerenderCatalog": lambda: catalog.RerenderCatalog(
            cpb.RerenderCatalogRequest(), metadata=key, timeout=10),
        "GetJob": lambda: jobs.GetJob(jpb.GetJobRequest(job_id="x"), metadata=key, timeout=10),
        "CreatePublishableKey": lambda: keys.CreatePublishableKey(
            kpb.CreatePublishableKeyRequest(allowed_origins=[SHOP]), metadata=key, timeout=10),
        "ListPublishableKeys": lambda: keys.ListPublishableKeys(
            kpb.ListPublishableKeysRequest(), metadata=key, timeout=10),
        "RevokePublishableKey": lambda: keys.RevokePublishableKey(
            kpb.RevokePublishableKeyRequest(key_id="pkid_" + "0" * 24), metadata=key,
            timeout=10),
    }  # fmt: skip
    for method, call in calls.items():
        err = error(call)
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED, method
        assert f"call {method} with your secret key" in err.details()
    # And Describe is for publishable keys only.
    err = error(lambda: keys.DescribePublishableKey(
        kpb.DescribePublishableKeyRequest(), metadata=auth("alpha"), timeout=10))  # fmt: skip
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "pk_" in err.details()


def test_bad_requests_are_refused_at_creation(keys) -> None:  # type: ignore[no-untyped-def]
    for origins in (["https://shop.example.com/cart"], ["shop.example.com"],
                    ["ftp://shop.example.com"], ["https://*.example.com"], []):  # fmt: skip
        err = error(lambda origins=origins: create(keys, origins=origins))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "scheme://host[:port]" in err.details()
    err = error(lambda: create(keys, origins=[f"https://s{i}.example" for i in range(21)]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "at most 20" in err.details()
    for rpm in (-1, 100_001):
        err = error(lambda rpm=rpm: create(keys, rpm=rpm))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "1..100000" in err.details()


def test_unknown_and_revoked_keys_are_unauthenticated(keys, catalog) -> None:  # type: ignore[no-untyped-def]
    unknown = "pk_" + secrets.token_urlsafe(24)
    err = error(lambda: describe(keys, unknown))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in err.details()
    assert unknown not in err.details()
    created = create(keys)
    assert describe(keys, created.key).key_id == created.key_id  # cached by the gateway now
    revoked = keys.RevokePublishableKey(
        kpb.RevokePublishableKeyRequest(key_id=created.key_id), metadata=auth(), timeout=10
    )
    assert revoked.HasField("revoked_at") and revoked.key == ""
    began = time.monotonic()
    while True:
        try:
            catalog.ListProducts(cpb.ListProductsRequest(page_size=1),
                                 metadata=with_key(created.key), timeout=10)  # fmt: skip
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "missing, unknown or revoked API key" in exc.details()
            break
        assert time.monotonic() - began < TEST_KEY_CACHE_TTL_S + 2, "revocation not applied"
        time.sleep(0.1)
    again = keys.RevokePublishableKey(  # revoking twice is not an error
        kpb.RevokePublishableKeyRequest(key_id=created.key_id), metadata=auth(), timeout=10
    )
    assert again.revoked_at == revoked.revoked_at
    assert listed(keys)[created.key_id].HasField("revoked_at")


def test_tenants_are_isolated(keys, catalog, tryon_stub) -> None:  # type: ignore[no-untyped-def]
    created = create(keys, tenant="alpha")
    assert created.key_id not in listed(keys, "beta")
    err = error(lambda: keys.RevokePublishableKey(
        kpb.RevokePublishableKeyRequest(key_id=created.key_id), metadata=auth("beta"),
        timeout=10))  # fmt: skip
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert not listed(keys, "alpha")[created.key_id].HasField("revoked_at")
    # The publishable key acts as alpha: its selfie is alpha's (the face_id is keyed by the
    # tenant), and beta cannot name it.
    data = OBAMA.read_bytes()
    geometry = tryon_stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=data)),
        metadata=with_key(created.key), timeout=60,
    ).geometry  # fmt: skip
    assert geometry.face_id == face_id_for("alpha", data)
    lipstick = first_product(catalog, types_pb2.PRODUCT_CATEGORY_LIPSTICK)
    look = types_pb2.Look(applications=[types_pb2.Application(product_id=lipstick.product_id)])
    request = pb.TryOnRequest(face_id=geometry.face_id, look=look)
    err = error(lambda: tryon_stub.TryOn(request, metadata=auth("beta"), timeout=60))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_rate_limit_per_key(keys) -> None:  # type: ignore[no-untyped-def]
    created = create(keys, rpm=5)
    # A fixed one-minute window: keep all six calls inside one.
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
    for _ in range(5):
        describe(keys, created.key)
    err = error(lambda: describe(keys, created.key))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"publishable key {created.key_id} is over its limit of 5 requests per minute" in (
        err.details()
    )
    retry = re.search(r"retry in (\d+) s", err.details())
    assert retry and 1 <= int(retry.group(1)) <= 60
    # Other keys have their own budget, and secret keys are not limited by it.
    describe(keys, create(keys, rpm=5).key)
    for _ in range(8):
        listed(keys)


def test_stream_with_a_publishable_key(keys, catalog, tryon_stub) -> None:  # type: ignore[no-untyped-def]
    key = create(keys).key
    lipstick = first_product(catalog, types_pb2.PRODUCT_CATEGORY_LIPSTICK)
    messages = [
        pb.StreamTryOnRequest(config=pb.StreamConfig(look=types_pb2.Look(
            applications=[types_pb2.Application(product_id=lipstick.product_id)]))),
        pb.StreamTryOnRequest(frame=pb.VideoFrame(
            image=types_pb2.Image(data=OBAMA.read_bytes()), sequence=7)),
    ]  # fmt: skip
    replies = list(tryon_stub.StreamTryOn(iter(messages), metadata=with_key(key), timeout=60))
    assert [r.sequence for r in replies] == [7]
    assert not replies[0].HasField("error") and len(replies[0].faces) == 1
    assert replies[0].image.data[:2] == b"\xff\xd8"
    # A revoked or unknown key cannot open one.
    unknown = with_key("pk_" + secrets.token_urlsafe(24))
    err = error(lambda: list(tryon_stub.StreamTryOn(iter(messages), metadata=unknown,
                                                    timeout=30)))  # fmt: skip
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_cli_creates_lists_and_revokes(stack, capsys) -> None:  # type: ignore[no-untyped-def]
    from tryon.cli import main

    common = ["--addr", stack.grpc_addr, "--api-key", API_KEYS["alpha"]]
    assert main([*common, "keys", "create", "--origin", SHOP, "--origin", "http://localhost:3000",
                 "--rpm", "50", "--label", "cli"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    key = re.search(r"publishable key: (pk_\S+)", out)
    key_id = re.search(r"key_id: (pkid_[0-9a-f]+)", out)
    assert key and key_id and "50 requests/min" in out
    assert main([*common, "keys", "list"]) == 0
    out = capsys.readouterr().out
    assert key_id.group(1) in out and key.group(1) not in out and "http://localhost:3000" in out
    assert main([*common, "keys", "revoke", key_id.group(1)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main([*common, "keys", "create", "--origin", "https://shop.example.com/x"]) == 1
    assert "INVALID_ARGUMENT" in capsys.readouterr().err
