"""CatalogService and JobService end to end: filters and pages over the real seeded catalog,
validated all-or-nothing upserts, tenant isolation, and catalog re-render jobs on the batch
queue (progress, outputs, idempotency, cancel) while try-ons keep working."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

import cv2
import grpc
import numpy as np
import pytest

from scripts.stack import Stack
from tests.conftest import API_KEYS, TEST_DATA, auth
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import job_service_pb2 as jpb
from tryon.v1 import job_service_pb2_grpc as jpb_grpc
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import types_pb2

LIPSTICK = types_pb2.PRODUCT_CATEGORY_LIPSTICK
OWN_SWATCH_BRAND = "Alpha Own Swatch"


@pytest.fixture(scope="module")
def catalog(channel) -> cpb_grpc.CatalogServiceStub:  # type: ignore[no-untyped-def]
    return cpb_grpc.CatalogServiceStub(channel)


@pytest.fixture(scope="module")
def jobs(channel) -> jpb_grpc.JobServiceStub:  # type: ignore[no-untyped-def]
    return jpb_grpc.JobServiceStub(channel)


def list_all(catalog, tenant: str = "alpha", **filters) -> list[types_pb2.Product]:  # type: ignore[no-untyped-def]
    products, token = [], ""
    while True:
        page = catalog.ListProducts(
            cpb.ListProductsRequest(page_size=100, page_token=token, **filters),
            metadata=auth(tenant), timeout=30,
        )  # fmt: skip
        products.extend(page.products)
        token = page.next_page_token
        if not token:
            return products


def test_real_lipsticks_page_by_page(catalog) -> None:  # type: ignore[no-untyped-def]
    lipsticks = list_all(catalog, category=LIPSTICK)
    ids = [p.product_id for p in lipsticks]
    assert len(ids) == len(set(ids)), "pages overlap"
    # The Ovilia lipstick catalog, every shade (the Makeup API's "mk-" lipsticks and any house
    # product aside).
    ovilia = [p for p in lipsticks
              if not p.product_id.startswith(("mk-", "tryon-studio-"))]  # fmt: skip
    assert sum(len(p.shades) for p in ovilia) == 287
    assert len({p.brand for p in lipsticks}) >= 30  # with the Makeup API's lipsticks
    assert all(s.hex.startswith("#") for p in lipsticks for s in p.shades)
    brand = lipsticks[0].brand
    by_brand = list_all(catalog, brand=brand.upper(), category=LIPSTICK)
    assert by_brand and all(p.brand == brand for p in by_brand)
    one = catalog.GetProduct(cpb.GetProductRequest(product_id=ids[0]), metadata=auth(), timeout=10)
    assert one.product_id == ids[0] and one.swatch_uri


def searchable(p: types_pb2.Product) -> str:
    """What a text query looks in: brand, product name and shade names."""
    return " ".join([p.brand, p.name, *(s.name for s in p.shades)]).lower()


def test_text_search_finds_words_in_brand_name_or_shade(catalog) -> None:  # type: ignore[no-untyped-def]
    everything = list_all(catalog)

    def expected(*words: str) -> list[str]:
        return [p.product_id for p in everything if all(w in searchable(p) for w in words)]

    # "cherry" is in real shade names (e.g. Dior's), not only in product names.
    cherry = list_all(catalog, query="  Cherry ")
    assert cherry and [p.product_id for p in cherry] == expected("cherry")
    assert any("cherry" not in f"{p.brand} {p.name}".lower() for p in cherry), "shades count"
    dior = list_all(catalog, query="DIOR")
    assert any(p.brand == "Dior" for p in dior)
    assert [p.product_id for p in dior] == expected("dior")
    # Two words: both must appear (AND), in any of the fields.
    matte = list_all(catalog, query="matte")
    both = list_all(catalog, query="matte foundation")
    assert both and [p.product_id for p in both] == expected("matte", "foundation")
    assert len(both) < len(matte)
    # With the other filters too: a category and a query.
    lip = list_all(catalog, query="cherry", category=LIPSTICK)
    assert {p.product_id for p in lip} <= {p.product_id for p in cherry}
    assert all(p.category == LIPSTICK for p in lip)
    # LIKE wildcards are literal characters, and no match is an empty page.
    # (Only real "100%" names match "%"; nothing has "_".)
    percent = list_all(catalog, query="%")
    assert [p.product_id for p in percent] == expected("%") and len(percent) < 5
    assert list_all(catalog, query="_") == []
    empty = catalog.ListProducts(cpb.ListProductsRequest(query="zzqx nosuchword"),
                                 metadata=auth(), timeout=10)  # fmt: skip
    assert list(empty.products) == [] and empty.next_page_token == ""


def test_text_search_pages_without_duplicates(catalog) -> None:  # type: ignore[no-untyped-def]
    request = cpb.ListProductsRequest(query="foundation", page_size=500)
    whole = [p.product_id for p in catalog.ListProducts(request, metadata=auth(), timeout=30)
             .products]  # fmt: skip
    assert len(whole) > 20
    ids, token, pages = [], "", 0
    while True:
        page = catalog.ListProducts(
            cpb.ListProductsRequest(query="foundation", page_size=7, page_token=token),
            metadata=auth(), timeout=10,
        )  # fmt: skip
        ids += [p.product_id for p in page.products]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert ids == whole and len(set(ids)) == len(ids)
    assert pages == -(-len(whole) // 7)
    first = catalog.ListProducts(cpb.ListProductsRequest(query="foundation", page_size=7),
                                 metadata=auth(), timeout=10)  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:  # a page token belongs to its query
        catalog.ListProducts(
            cpb.ListProductsRequest(query="matte", page_size=7, page_token=first.next_page_token),
            metadata=auth(), timeout=10,
        )  # fmt: skip
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "query" in err.value.details()


@pytest.mark.parametrize(
    ("query", "words"), [("lipstick " * 33 + "red", "200"), ("a b c d e f g h i", "8 words")]
)
def test_text_search_limits(catalog, query: str, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        catalog.ListProducts(cpb.ListProductsRequest(query=query), metadata=auth(), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in err.value.details()


def test_swatches_are_urls_or_inline_pngs(catalog, stack) -> None:  # type: ignore[no-untyped-def]
    lipsticks = [p for p in list_all(catalog, category=LIPSTICK) if p.brand != OWN_SWATCH_BRAND]
    for p in lipsticks[:20]:  # rendered swatches: where the web studio serves them
        tenant = "alpha" if p.brand == "Alpha Cosmetics" else "public"
        # The stack points swatch addresses at its web studio, which serves them.
        expected = f"{stack.web_url}/swatches/{tenant}/{quote(p.product_id, safe='')}.png"
        assert p.swatch_uri == expected
    one = catalog.GetProduct(cpb.GetProductRequest(product_id=lipsticks[0].product_id),
                             metadata=auth(), timeout=10)  # fmt: skip
    assert one.swatch_uri == lipsticks[0].swatch_uri
    inline = catalog.GetProduct(
        cpb.GetProductRequest(product_id=lipsticks[0].product_id, include_swatch=True),
        metadata=auth(), timeout=10,
    )  # fmt: skip
    prefix = "data:image/png;base64,"
    assert inline.swatch_uri.startswith(prefix)
    png = base64.b64decode(inline.swatch_uri.removeprefix(prefix), validate=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and min(image.shape[:2]) >= 16
    # A partner's own swatch URL is theirs: returned as given, inline or not.
    own = "https://cdn.alpha.example/swatches/lip%201.png?v=3"
    partners = product("alpha-own-swatch", swatch_uri=own)
    partners.brand = OWN_SWATCH_BRAND
    catalog.UpsertProducts(cpb.UpsertProductsRequest(products=[partners]), metadata=auth(),
                           timeout=30)  # fmt: skip
    for include in (False, True):
        got = catalog.GetProduct(
            cpb.GetProductRequest(product_id="alpha-own-swatch", include_swatch=include),
            metadata=auth(), timeout=10,
        )  # fmt: skip
        assert got.swatch_uri == own
    listed = list_all(catalog, query="alpha-own-swatch")
    assert [p.swatch_uri for p in listed] == [own]


def product(product_id: str, hex_: str = "#b03040", **kw) -> types_pb2.Product:  # type: ignore[no-untyped-def]
    return types_pb2.Product(
        product_id=product_id, brand="Alpha Cosmetics", name=f"Lip {product_id}",
        category=LIPSTICK, price=types_pb2.Money(currency="USD", amount_minor=2400),
        shades=[types_pb2.Shade(shade_id="s1", name="Rouge", hex=hex_,
                                finish=types_pb2.FINISH_MATTE)], **kw,
    )  # fmt: skip


def test_upserts_are_validated_all_or_nothing_and_per_tenant(catalog) -> None:  # type: ignore[no-untyped-def]
    def upsert(products, tenant="alpha"):  # type: ignore[no-untyped-def]
        return catalog.UpsertProducts(
            cpb.UpsertProductsRequest(products=products), metadata=auth(tenant), timeout=30
        )

    bad_batches = [
        ([product("alpha-ok-1"), product("alpha-bad", hex_="#12345")], "products[1].shades[0].hex"),
        ([product("alpha-ok-1"), product("alpha-nocolour", hex_="")], "hex is missing"),
        ([product("alpha-dup"), product("alpha-dup")], "alpha-dup"),
    ]
    for batch, words in bad_batches:
        with pytest.raises(grpc.RpcError) as err:
            upsert(batch)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
        assert words in err.value.details()
    brand_products = list_all(catalog, brand="Alpha Cosmetics")
    assert brand_products == [], "a rejected batch must write nothing"

    first = upsert([product("alpha-ok-1"), product("alpha-ok-2")])
    assert (first.created, first.updated) == (2, 0)
    again = upsert([product("alpha-ok-1"), product("alpha-ok-2")])
    assert again.created == 0
    assert len(list_all(catalog, brand="Alpha Cosmetics")) == 2
    assert list_all(catalog, "beta", brand="Alpha Cosmetics") == [], "tenants are isolated"
    with pytest.raises(grpc.RpcError) as err:
        catalog.GetProduct(cpb.GetProductRequest(product_id="alpha-ok-1"), metadata=auth("beta"),
                           timeout=10)  # fmt: skip
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def wait_for(jobs, job_id: str, timeout_s: float = 240) -> types_pb2.Job:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = jobs.GetJob(jpb.GetJobRequest(job_id=job_id), metadata=auth(), timeout=10)
        if job.state in (types_pb2.JOB_STATE_SUCCEEDED, types_pb2.JOB_STATE_FAILED,
                         types_pb2.JOB_STATE_CANCELLED):  # fmt: skip
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


def test_rerender_job_writes_every_render(catalog, jobs) -> None:  # type: ignore[no-untyped-def]
    lipsticks = list_all(catalog, category=LIPSTICK)[:3]
    request = cpb.RerenderCatalogRequest(product_ids=[p.product_id for p in lipsticks])
    job = catalog.RerenderCatalog(request, metadata=auth(), timeout=60)
    again = catalog.RerenderCatalog(request, metadata=auth(), timeout=60)
    assert again.job_id == job.job_id, "the same request is the same job"
    done = wait_for(jobs, job.job_id)
    expected = sum(len(p.shades) for p in lipsticks)
    assert done.state == types_pb2.JOB_STATE_SUCCEEDED, done.error
    assert (done.total, done.done, done.failed) == (expected, expected, 0)
    folder = Path(urlparse(done.output_uri).path)
    assert len(list(folder.rglob("*.jpg"))) == expected
    with pytest.raises(grpc.RpcError) as err:
        jobs.GetJob(jpb.GetJobRequest(job_id=job.job_id), metadata=auth("beta"), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_cancel_a_big_job_while_try_ons_keep_working(catalog, jobs, tryon_stub) -> None:  # type: ignore[no-untyped-def]
    job = catalog.RerenderCatalog(
        cpb.RerenderCatalogRequest(categories=[types_pb2.PRODUCT_CATEGORY_FOUNDATION]),
        metadata=auth(), timeout=60,
    )  # fmt: skip
    lipstick = list_all(catalog, category=LIPSTICK)[0]
    look = types_pb2.Look(applications=[types_pb2.Application(product_id=lipstick.product_id)])
    for _ in range(3):  # interactive traffic is served while the batch runs
        response = tryon_stub.TryOn(
            pb.TryOnRequest(image=types_pb2.Image(data=(TEST_DATA / "obama.jpg").read_bytes()),
                            look=look), metadata=auth(), timeout=30,
        )  # fmt: skip
        assert response.image.data
    cancelled = jobs.CancelJob(jpb.CancelJobRequest(job_id=job.job_id), metadata=auth(), timeout=10)
    assert cancelled.state == types_pb2.JOB_STATE_CANCELLED
    final = wait_for(jobs, job.job_id)
    assert final.state == types_pb2.JOB_STATE_CANCELLED
    assert final.done < final.total


def test_cli_rerender_shows_progress(stack: Stack, catalog) -> None:  # type: ignore[no-untyped-def]
    lipstick = list_all(catalog, category=LIPSTICK)[-1]
    result = subprocess.run(
        [sys.executable, "-m", "tryon.cli", "--addr", stack.grpc_addr, "--api-key",
         API_KEYS["alpha"], "rerender", "--product", lipstick.product_id],
        capture_output=True, text=True, timeout=240, check=True,
    )  # fmt: skip
    assert "succeeded" in result.stderr and "#" in result.stderr
    assert "outputs:" in result.stdout
