"""Recommend end to end (gRPC -> gateway -> Celery -> recsys): p50/p99 at concurrency 1 and 4
for a cold start from skin attributes, a foundation shade match, and a known shopper scored by
the trained LightFM + item-kNN blend; beside it the bare in-process call. Goal: p99 <= 20 ms.

There are no real try-on logs (shared/data/README.md): the shoppers' events here are synthetic
sessions over the real catalog, only to give the served model a history to score.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import grpc

from bench.stack_load import AUTH, TENANT, pct, private_stack, run_load
from services.common.celery_app import TRAIN_TASK, create_app
from services.recsys.event_store import EventStore
from services.recsys.model_registry import ModelRegistry
from services.recsys.recommender import Recommender
from services.recsys.skin_affinity import SkinProfile
from services.render.catalog import CatalogStore
from services.render.catalog.seed import seed
from tests.conftest import shared_data_dir
from tryon.v1 import tryon_service_pb2 as pb
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc
from tryon.v1 import types_pb2

GOAL_P99_MS = 20.0
REQUESTS = {1: 200, 4: 400}
SKIN = pb.SkinAttributes(
    lab_l=62.0, lab_a=14.0, lab_b=20.0, monk_bucket=4, undertone=types_pb2.UNDERTONE_WARM
)
SHOPPERS = 40


def recommend(channel: grpc.aio.Channel):  # type: ignore[no-untyped-def]
    stub = pb_grpc.TryOnServiceStub(channel)
    return lambda request: stub.Recommend(request, metadata=AUTH, timeout=30)


def record(channel: grpc.aio.Channel):  # type: ignore[no-untyped-def]
    stub = pb_grpc.TryOnServiceStub(channel)
    return lambda request: stub.RecordEvent(request, metadata=AUTH, timeout=30)


def sessions(product_ids: list[str], rng: random.Random) -> list[pb.RecordEventRequest]:
    """Each shopper tries a few products of two favourite categories, buys one."""
    events = []
    now = time.time() - 86400
    for u in range(SHOPPERS):
        picks = rng.sample(product_ids, 6)
        for i, product in enumerate(picks):
            kind = pb.EVENT_TYPE_PURCHASE if i == len(picks) - 1 else pb.EVENT_TYPE_TRY_ON
            request = pb.RecordEventRequest(
                event_id=uuid.uuid4().hex, user_id=f"shopper-{u}", type=kind, product_id=product
            )
            request.time.FromMilliseconds(int((now + u * 60 + i) * 1000))
            events.append(request)
    return events


def bare_ms(database_url: str, requests: dict[str, pb.RecommendRequest]) -> dict[str, float]:
    """The worker's own call in this process (catalog and model cached, as in the worker)."""
    catalog, events = CatalogStore(database_url), EventStore(database_url)
    recommender = Recommender(catalog, events, ModelRegistry(database_url))
    out = {}
    for name, request in requests.items():
        skin = (
            SkinProfile(
                lab=(SKIN.lab_l, SKIN.lab_a, SKIN.lab_b),
                monk_bucket=SKIN.monk_bucket,
                undertone="warm",
            )
            if request.HasField("skin")
            else SkinProfile()
        )
        categories = ["foundation"] if request.categories else []

        def call(skin=skin, categories=categories, request=request) -> None:  # type: ignore[no-untyped-def]
            recommender.recommend(
                TENANT, user_id=request.user_id, skin=skin, categories=categories, k=request.k
            )

        for _ in range(5):
            call()
        times = []
        for _ in range(100):
            begin = time.perf_counter()
            call()
            times.append(time.perf_counter() - begin)
        out[name] = statistics.median(times) * 1000
    catalog.dispose()
    events.dispose()
    return out


async def bench(addr: str, database_url: str, product_ids: list[str]) -> None:
    events = sessions(product_ids, random.Random(7))
    await run_load(addr, events, 4, record)
    app = create_app()
    app.send_task(TRAIN_TASK, kwargs={"payload": {"reason": "bench"}})
    requests = {
        "cold start, skin": pb.RecommendRequest(skin=SKIN, k=10),
        "shade match": pb.RecommendRequest(
            skin=SKIN, categories=[types_pb2.PRODUCT_CATEGORY_FOUNDATION], k=5
        ),
        "known shopper": pb.RecommendRequest(user_id="shopper-3", k=10),
    }
    async with grpc.aio.insecure_channel(addr) as channel:  # wait for the trained model
        stub = pb_grpc.TryOnServiceStub(channel)
        for _ in range(240):
            reply = await stub.Recommend(requests["known shopper"], metadata=AUTH, timeout=30)
            if reply.model_version != "none":
                break
            await asyncio.sleep(0.5)
        print(
            f"\nRecommend end to end (recsys worker prefork x2 on 2 cores; model "
            f"{reply.model_version}, trained on {len(events)} synthetic events of "
            f"{SHOPPERS} shoppers over the real catalog)"
        )
    bare = bare_ms(database_url, requests)
    print(f"  goal: p99 <= {GOAL_P99_MS:.0f} ms")
    print(
        f"  {'request':17s} {'conc':>4s} {'n':>4s} {'p50 ms':>7s} {'p99 ms':>7s} {'req/s':>6s} "
        f"{'p99/goal':>8s} {'bare ms':>8s}"
    )
    for name, request in requests.items():
        await run_load(addr, [request] * 20, 4, recommend)  # every pool child warm
        for concurrency, n in REQUESTS.items():
            lat, wall = await run_load(addr, [request] * n, concurrency, recommend)
            print(
                f"  {name:17s} {concurrency:4d} {len(lat):4d} {pct(lat, 50):7.1f} "
                f"{pct(lat, 99):7.1f} {len(lat) / wall:6.1f} {pct(lat, 99) / GOAL_P99_MS:8.2f} "
                f"{bare[name]:8.2f}"
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'catalog.db'}"
        store = CatalogStore(database_url)
        try:
            seed(store, shared_data_dir())
            product_ids, token = [], ""
            while True:
                page, token = store.list_products(TENANT, page_size=500, page_token=token)
                product_ids += [p.product_id for p in page if p.category != "foundation"]
                if not token:
                    break
        finally:
            store.dispose()
        with private_stack(("recsys",), {"DATABASE_URL": database_url}) as stack:
            os.environ["REDIS_URL"] = stack.redis_url  # for create_app() above
            asyncio.run(bench(stack.grpc_addr, database_url, product_ids))


if __name__ == "__main__":
    main()
