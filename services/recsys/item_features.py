"""Item features for the recommender, from the catalog a tenant sees: category, brand, finish,
colour families, price band. These are what let LightFM score a product nobody has touched."""

from __future__ import annotations

from collections import defaultdict
from typing import get_args

from services.common.payloads import Category
from services.render.catalog import CatalogStore

__all__ = ["catalog_item_features", "price_band"]

# Price bands in minor units (cents): drugstore, mid, prestige, luxury.
_PRICE_BANDS = ((1500, "drugstore"), (3500, "mid"), (6000, "prestige"))


def price_band(price_minor: int) -> str:
    if price_minor <= 0:
        return "unknown"
    for limit, name in _PRICE_BANDS:
        if price_minor < limit:
            return name
    return "luxury"


def catalog_item_features(catalog: CatalogStore, tenant: str) -> dict[str, set[str]]:
    """product_id -> labels, for every product `tenant` sees."""
    features: dict[str, set[str]] = defaultdict(set)
    token = ""
    while True:
        page, token = catalog.list_products(tenant, page_size=500, page_token=token)
        for p in page:
            labels = features[p.product_id]
            labels.update({f"category:{p.category}", f"brand:{p.brand.lower()}",
                           f"price:{price_band(p.price_minor)}"})  # fmt: skip
            labels.update(f"finish:{s.finish}" for s in p.shades)
        if not token:
            break
    for category in get_args(Category):
        table = catalog.all_shades(category, tenant=tenant)
        for product_id, family in zip(table.product_ids, table.colour_families, strict=True):
            if family:
                features[product_id].add(f"colour:{family}")
    return dict(features)
