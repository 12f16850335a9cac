"""TryOn end to end: gateway -> recon (cached) -> render, real products from the seeded catalog."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
from PIL import Image

from scripts.stack import Stack
from tests.conftest import API_KEYS, TEST_DATA, TEST_IMAGE_TTL_S, auth
from tests.gateway.test_reconstruct import metric_value
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

OBAMA = TEST_DATA / "obama.jpg"


@pytest.fixture(scope="module")
def catalog_stub(channel) -> cpb_grpc.CatalogServiceStub:  # type: ignore[no-untyped-def]
    return cpb_grpc.CatalogServiceStub(channel)


def first_product(catalog_stub, category: int) -> types_pb2.Product:  # type: ignore[no-untyped-def]
    page = catalog_stub.ListProducts(
        cpb.ListProductsRequest(category=category, page_size=5), metadata=auth(), timeout=10
    )
    assert page.products, f"seeded catalog has no products of category {category}"
    return page.products[0]


@pytest.fixture(scope="module")
def lipstick(catalog_stub) -> types_pb2.Product:  # type: ignore[no-untyped-def]
    return first_product(catalog_stub, types_pb2.PRODUCT_CATEGORY_LIPSTICK)


def try_on(stub, look, tenant: str = "alpha", image: bytes | None = None, **kw):  # type: ignore[no-untyped-def]
    request = pb.TryOnRequest(look=types_pb2.Look(applications=look), **kw)
    if image is not None:
        request.image.data = image
    return stub.TryOn(request, metadata=auth(tenant), timeout=60)


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_lipstick_changes_the_lips_only(tryon_stub, lipstick) -> None:  # type: ignore[no-untyped-def]
    shade = lipstick.shades[0]
    app = types_pb2.Application(product_id=lipstick.product_id, shade_id=shade.shade_id)
    response = try_on(tryon_stub, [app], image=OBAMA.read_bytes(), output_content_type="image/png")
    assert response.image.content_type == "image/png"
    original = decode(OBAMA.read_bytes())
    out = decode(response.image.data)
    assert out.shape == original.shape
    changed = np.any(out != original, axis=2)
    assert changed.sum() > 500, "the lipstick must show"
    face = response.geometry.faces[0]
    lips = np.array([[face.landmarks[i].x, face.landmarks[i].y] for i in (61, 291, 0, 17)])
    ys, xs = np.nonzero(changed)
    # Every changed pixel near the mouth: within the lip corners and lip top/bottom, + margin.
    margin = 0.25 * (lips[1, 0] - lips[0, 0])
    assert xs.min() >= lips[0, 0] - margin and xs.max() <= lips[1, 0] + margin
    assert ys.min() >= lips[2, 1] - margin and ys.max() <= lips[3, 1] + margin


def test_face_id_path_skips_reconstruction(tryon_stub, lipstick, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    data = OBAMA.read_bytes()
    geometry = tryon_stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=data)), metadata=auth(), timeout=30
    ).geometry
    port = stack.worker_metrics_ports["recon"]
    misses = metric_value(port, "tryon_recon_cache_lookups_total", result="miss")
    app = types_pb2.Application(product_id=lipstick.product_id, intensity=0.7)
    by_id = try_on(tryon_stub, [app], face_id=geometry.face_id, output_content_type="image/png")
    assert metric_value(port, "tryon_recon_cache_lookups_total", result="miss") == misses
    by_image = try_on(tryon_stub, [app], image=data, output_content_type="image/png")
    np.testing.assert_array_equal(decode(by_id.image.data), decode(by_image.image.data))
    assert by_id.geometry.face_id == geometry.face_id


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/webp", "image/png"])
def test_output_formats_and_side_by_side(tryon_stub, lipstick, content_type: str) -> None:  # type: ignore[no-untyped-def]
    app = types_pb2.Application(product_id=lipstick.product_id)
    response = try_on(tryon_stub, [app], image=OBAMA.read_bytes(),
                      output_content_type=content_type, side_by_side=True)  # fmt: skip
    assert response.image.content_type == content_type
    img = Image.open(io.BytesIO(response.image.data))
    assert img.format == content_type.split("/")[1].upper()
    width, height = Image.open(OBAMA).size
    assert img.size == (2 * width, height)


def test_full_look_on_two_faces(tryon_stub, catalog_stub, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    categories = [types_pb2.PRODUCT_CATEGORY_FOUNDATION, types_pb2.PRODUCT_CATEGORY_BLUSH,
                  types_pb2.PRODUCT_CATEGORY_EYESHADOW, types_pb2.PRODUCT_CATEGORY_EYELINER,
                  types_pb2.PRODUCT_CATEGORY_LIPSTICK]  # fmt: skip
    look = [types_pb2.Application(product_id=first_product(catalog_stub, c).product_id)
            for c in categories]  # fmt: skip
    data = (shared_data / "faces/portraits/two_people.jpg").read_bytes()
    both = try_on(tryon_stub, look, image=data, output_content_type="image/png")
    one = try_on(tryon_stub, look, image=data, output_content_type="image/png", face_index=1)
    original = decode(data)
    changed_both = np.any(decode(both.image.data) != original, axis=2)
    changed_one = np.any(decode(one.image.data) != original, axis=2)
    assert changed_one.sum() < changed_both.sum()
    box = both.geometry.faces[0].box  # face 0 untouched when only face 1 is painted
    y0, x0 = int(box.y_min), int(box.x_min)
    assert not changed_one[y0 : y0 + int(box.height), x0 : x0 + int(box.width)].any()


def _error(fn) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        fn()
    print(f"{err.value.code().name}: {err.value.details()}")
    return err.value


def test_bad_looks(tryon_stub, lipstick) -> None:  # type: ignore[no-untyped-def]
    data = OBAMA.read_bytes()
    app = types_pb2.Application
    cases = [
        ([app(product_id="no-such-product")], grpc.StatusCode.NOT_FOUND, "no-such-product"),
        ([app(product_id=lipstick.product_id, shade_id="no-such-shade")],
         grpc.StatusCode.NOT_FOUND, "no-such-shade"),
        ([app(product_id=lipstick.product_id, intensity=1.5)],
         grpc.StatusCode.INVALID_ARGUMENT, "intensity"),
        ([], grpc.StatusCode.INVALID_ARGUMENT, "empty"),
        ([app(product_id=lipstick.product_id)] * 50, grpc.StatusCode.INVALID_ARGUMENT, "at most"),
        ([app(product_id=lipstick.product_id, zone="cheek")],
         grpc.StatusCode.INVALID_ARGUMENT, "zone"),
    ]  # fmt: skip
    for look, code, word in cases:
        err = _error(lambda look=look: try_on(tryon_stub, look, image=data))
        assert err.code() == code
        assert word in err.details()


def test_face_ids_are_per_tenant_and_expire(tryon_stub, lipstick) -> None:  # type: ignore[no-untyped-def]
    rgb = decode(OBAMA.read_bytes())
    buf = io.BytesIO()
    Image.fromarray(rgb[:, ::-1]).save(buf, "JPEG", quality=92)  # an image no other test sent
    geometry = tryon_stub.Reconstruct(
        pb.ReconstructRequest(image=types_pb2.Image(data=buf.getvalue())), metadata=auth(),
        timeout=30,
    ).geometry  # fmt: skip
    look = [types_pb2.Application(product_id=lipstick.product_id)]
    err = _error(lambda: try_on(tryon_stub, look, tenant="beta", face_id=geometry.face_id))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert _error(lambda: try_on(tryon_stub, look, face_id="not-an-id")).code() == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    time.sleep(TEST_IMAGE_TTL_S + 1)
    err = _error(lambda: try_on(tryon_stub, look, face_id=geometry.face_id))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_no_face_and_bad_face_index(tryon_stub, lipstick) -> None:  # type: ignore[no-untyped-def]
    look = [types_pb2.Application(product_id=lipstick.product_id)]
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 140, 200)).save(buf, "PNG")
    err = _error(lambda: try_on(tryon_stub, look, image=buf.getvalue()))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and "no face" in err.details()
    err = _error(lambda: try_on(tryon_stub, look, image=OBAMA.read_bytes(), face_index=3))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "face_index" in err.details()


def test_cli_try_on_and_products(stack: Stack, lipstick, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = [sys.executable, "-m", "tryon.cli", "--addr", stack.grpc_addr, "--api-key",
            API_KEYS["alpha"]]  # fmt: skip
    out = tmp_path / "look.png"
    spec = f"{lipstick.product_id}:{lipstick.shades[0].shade_id}@0.8"
    subprocess.run([*base, "try-on", str(OBAMA), "--product", spec, "--out", str(out)],
                   check=True, timeout=60, capture_output=True)  # fmt: skip
    assert Image.open(out).format == "PNG"
    listing = subprocess.run(
        [*base, "products", "--category", "lipstick", "--limit", "5"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert lipstick.product_id in listing
