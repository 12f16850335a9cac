"""tryon.v1.CatalogService and tryon.v1.JobService: the render service owns the catalog and
the batch jobs; the gateway validates and forwards."""

from __future__ import annotations

import grpc

from services.common.celery_app import (
    GET_JOB_TASK,
    GET_PRODUCT_TASK,
    LIST_PRODUCTS_TASK,
    RECSYS_QUEUE,
    RENDER_QUEUE,
    RERENDER_CATALOG_TASK,
    SEARCH_PRODUCTS_TASK,
    UPSERT_PRODUCTS_TASK,
)
from services.common.payloads import (
    CatalogReply,
    GetProductTask,
    JobReply,
    JobTask,
    ListProductsTask,
    RerenderTask,
    SearchProductsReply,
    SearchProductsTask,
    UpsertProductsTask,
)
from services.common.redis_keys import is_face_id
from services.common.settings import Settings
from services.gateway.advice_proto import MAX_SEARCH_TEXT, clean_text, slots_proto
from services.gateway.authn import Authenticator
from services.gateway.deadlines import remaining_time
from services.gateway.dispatch import TaskDispatcher
from services.gateway.product_proto import (
    category_name,
    job_proto,
    product_from_proto,
    product_proto,
)
from services.gateway.rpc import RpcError, rpc
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import catalog_service_pb2_grpc as cpb_grpc
from tryon.v1 import job_service_pb2 as jpb
from tryon.v1 import job_service_pb2_grpc as jpb_grpc
from tryon.v1 import types_pb2

MAX_PAGE_SIZE = 500
MAX_UPSERT = 1000
MAX_REFERENCE_FACES = 20
# Request strings longer than these are refused before anything is queued (and never echoed).
MAX_FIELD = {"product_id": 128, "brand": 200, "colour_family": 32, "page_token": 2048}


def _bounded(value: str, field: str) -> str:
    if len(value) > MAX_FIELD[field]:
        raise _invalid(f"{field} is {len(value)} characters; send at most {MAX_FIELD[field]}")
    return value
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8


def _invalid(message: str) -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


def _query(text: str) -> str:
    """ListProductsRequest.query, trimmed and checked: "" or 1..MAX_QUERY_WORDS words."""
    query = " ".join(text.split())
    if len(query) > MAX_QUERY_CHARS:
        raise _invalid(
            f"query is {len(query)} characters; search with at most {MAX_QUERY_CHARS} "
            "(a few words of the brand, product or shade name)"
        )
    if not query.isprintable():
        raise _invalid("query has control characters: send plain words")
    words = query.split()
    if len(words) > MAX_QUERY_WORDS:
        raise _invalid(
            f"query has {len(words)} words; use at most {MAX_QUERY_WORDS} words (every word "
            "must match)"
        )
    return query


class CatalogServicer(cpb_grpc.CatalogServiceServicer):
    def __init__(
        self,
        authenticator: Authenticator,
        dispatcher: TaskDispatcher,
        settings: Settings | None = None,
    ) -> None:
        self.authenticator = authenticator
        self._dispatcher = dispatcher
        # Only TRYON_SWATCH_BASE_URL is used here; read from the environment when not given.
        self._swatch_base_url = (settings or Settings.from_env()).swatch_base_url

    @rpc("ListProducts")
    async def ListProducts(
        self, request: cpb.ListProductsRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> cpb.ListProductsResponse:
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            raise _invalid(f"page_size is {request.page_size}; use 1..{MAX_PAGE_SIZE} (0: 50)")
        prices = [m for m in (request.min_price, request.max_price) if m.currency]
        if any(m.currency != "USD" for m in prices):
            raise _invalid("price filters are in USD for now: set currency 'USD'")
        query = _query(request.query)
        reply = await self._dispatcher.request(
            LIST_PRODUCTS_TASK, RENDER_QUEUE, ListProductsTask, CatalogReply, tenant=tenant,
            timeout_s=remaining_time(context), brand=_bounded(request.brand.strip(), "brand"),
            category=category_name(request.category, "category", required=False),
            colour_family=_bounded(request.colour_family.strip().lower(), "colour_family"),
            min_price_minor=request.min_price.amount_minor if request.min_price.currency else None,
            max_price_minor=request.max_price.amount_minor if request.max_price.currency else None,
            page_size=request.page_size or 50, query=query,
            page_token=_bounded(request.page_token, "page_token"),
        )  # fmt: skip
        return cpb.ListProductsResponse(
            products=[product_proto(p, self._swatch_base_url) for p in reply.products],
            next_page_token=reply.next_page_token,
        )

    @rpc("GetProduct")
    async def GetProduct(
        self, request: cpb.GetProductRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> types_pb2.Product:
        if not request.product_id:
            raise _invalid("product_id is empty")
        _bounded(request.product_id, "product_id")
        reply = await self._dispatcher.request(
            GET_PRODUCT_TASK, RENDER_QUEUE, GetProductTask, CatalogReply, tenant=tenant,
            timeout_s=remaining_time(context), product_id=request.product_id,
            include_swatch=request.include_swatch,
        )  # fmt: skip
        # A data: URI (include_swatch) or a partner's URL passes through swatch_url unchanged.
        return product_proto(reply.products[0], self._swatch_base_url)

    @rpc("SearchProducts")
    async def SearchProducts(
        self, request: cpb.SearchProductsRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> cpb.SearchProductsResponse:
        text = clean_text(request.text, "text", MAX_SEARCH_TEXT, required=False)
        colour = clean_text(request.colour, "colour", 100, required=False)
        if not (text or colour or request.category):
            raise _invalid("say what to search for: text, colour or category")
        if request.max_delta_e < 0 or request.max_delta_e > 100:
            raise _invalid(f"max_delta_e is {request.max_delta_e}: use 0..100 (0 for 15)")
        if not 0 <= request.page_size <= 100:
            raise _invalid(f"page_size is {request.page_size}: use 1..100 (0 for 20)")
        reply = await self._dispatcher.request(
            SEARCH_PRODUCTS_TASK, RECSYS_QUEUE, SearchProductsTask, SearchProductsReply,
            tenant=tenant, timeout_s=remaining_time(context), text=text, colour=colour,
            category=category_name(request.category, "category", required=False) or "",
            max_delta_e=request.max_delta_e or 15.0, page_size=request.page_size or 20,
        )  # fmt: skip
        return cpb.SearchProductsResponse(
            results=[
                cpb.SearchResult(product=product_proto(r.product, self._swatch_base_url),
                                 shade_id=r.shade_id, delta_e=r.delta_e)
                for r in reply.results
            ],
            understood=slots_proto(reply.understood),
        )  # fmt: skip

    @rpc("UpsertProducts")
    async def UpsertProducts(
        self, request: cpb.UpsertProductsRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> cpb.UpsertProductsResponse:
        if not request.products:
            raise _invalid("products is empty: send at least one product")
        if len(request.products) > MAX_UPSERT:
            raise _invalid(f"{len(request.products)} products; send at most {MAX_UPSERT} per call")
        products = [product_from_proto(p, i) for i, p in enumerate(request.products)]
        reply = await self._dispatcher.request(
            UPSERT_PRODUCTS_TASK, RENDER_QUEUE, UpsertProductsTask, CatalogReply, tenant=tenant,
            timeout_s=remaining_time(context), products=products,
        )  # fmt: skip
        return cpb.UpsertProductsResponse(created=reply.created, updated=reply.updated)

    @rpc("RerenderCatalog")
    async def RerenderCatalog(
        self, request: cpb.RerenderCatalogRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> types_pb2.Job:
        categories = [category_name(c, "categories[]") for c in request.categories]
        if len(request.reference_face_ids) > MAX_REFERENCE_FACES:
            raise _invalid(f"at most {MAX_REFERENCE_FACES} reference_face_ids per job")
        for face_id in request.reference_face_ids:
            if not is_face_id(face_id):
                raise _invalid(f"reference face_id {face_id!r} is malformed: use Reconstruct's")
        reply = await self._dispatcher.request(
            RERENDER_CATALOG_TASK, RENDER_QUEUE, RerenderTask, JobReply, tenant=tenant,
            timeout_s=remaining_time(context), brands=sorted(set(request.brands)),
            categories=sorted(set(categories)), product_ids=sorted(set(request.product_ids)),
            reference_face_ids=sorted(set(request.reference_face_ids)),
        )  # fmt: skip
        assert reply.job is not None
        return job_proto(reply.job)


class JobServicer(jpb_grpc.JobServiceServicer):
    def __init__(self, authenticator: Authenticator, dispatcher: TaskDispatcher) -> None:
        self.authenticator = authenticator
        self._dispatcher = dispatcher

    async def _job(
        self, job_id: str, cancel: bool, context: grpc.aio.ServicerContext, tenant: str
    ) -> types_pb2.Job:
        if not job_id:
            raise _invalid("job_id is empty")
        reply = await self._dispatcher.request(
            GET_JOB_TASK, RENDER_QUEUE, JobTask, JobReply, tenant=tenant,
            timeout_s=remaining_time(context), job_id=job_id, cancel=cancel,
        )  # fmt: skip
        assert reply.job is not None
        return job_proto(reply.job)

    @rpc("GetJob")
    async def GetJob(
        self, request: jpb.GetJobRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> types_pb2.Job:
        return await self._job(request.job_id, False, context, tenant)

    @rpc("CancelJob")
    async def CancelJob(
        self, request: jpb.CancelJobRequest, context: grpc.aio.ServicerContext, tenant: str
    ) -> types_pb2.Job:
        return await self._job(request.job_id, True, context, tenant)
