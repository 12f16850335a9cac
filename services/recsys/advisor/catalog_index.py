"""The catalog as arrays the advisor searches: every shade of one category a tenant sees, with
its product's brand, name and price, its finish and CIELAB colour. Built from the catalog
store's pages and kept for a minute per (tenant, category), per worker process."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from services.common.color import hex_to_lab
from services.common.colour_families import colour_family
from services.common.payloads import ProductPayload
from services.recsys.advisor.money import usd_minor
from services.render.catalog import CatalogStore

TTL_S = 60.0
_PAGE = 500
_MAX_PAGES = 40


@dataclass(frozen=True)
class CategoryIndex:
    category: str
    products: tuple[ProductPayload, ...]
    product_of: NDArray[np.int64]  # shade -> index in products
    shade_ids: tuple[str, ...]
    shade_names: tuple[str, ...]
    hexes: tuple[str, ...]
    finishes: tuple[str, ...]
    families: tuple[str, ...]
    lab: NDArray[np.float64]  # (N, 3)
    brand_lower: tuple[str, ...]  # per shade
    price_minor: NDArray[np.int64]  # per shade, in US cents; -1: no price

    def __len__(self) -> int:
        return len(self.shade_ids)

    @classmethod
    def build(cls, category: str, products: list[ProductPayload]) -> CategoryIndex:
        rows = [(i, s) for i, p in enumerate(products) for s in p.shades]
        hexes = tuple(s.hex.lower() for _, s in rows)
        lab = hex_to_lab(list(hexes)) if hexes else np.zeros((0, 3))
        lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
        return cls(
            category=category,
            products=tuple(products),
            product_of=np.array([i for i, _ in rows], dtype=np.int64),
            shade_ids=tuple(s.shade_id for _, s in rows),
            shade_names=tuple(s.name for _, s in rows),
            hexes=hexes,
            finishes=tuple(s.finish for _, s in rows),
            families=tuple(colour_family(category, tuple(x)) for x in lab),
            lab=lab,
            brand_lower=tuple(products[i].brand.lower() for i, _ in rows),
            price_minor=np.array(
                [_usd(products[i]) for i, _ in rows], dtype=np.int64
            ),
        )


def _usd(product: ProductPayload) -> int:
    usd = usd_minor(product.price_minor, product.price_currency)
    return -1 if usd is None else usd


class CatalogIndex:
    """Per worker process: category indexes, rebuilt after TTL_S (partner upserts show up
    within a minute)."""

    def __init__(self, store: CatalogStore) -> None:
        self._store = store
        self._cache: dict[tuple[str, str], tuple[float, CategoryIndex]] = {}

    def category(self, tenant: str, category: str) -> CategoryIndex:
        now = time.monotonic()
        hit = self._cache.get((tenant, category))
        if hit is not None and hit[0] > now:
            return hit[1]
        products: list[ProductPayload] = []
        token = ""
        for _ in range(_MAX_PAGES):
            page, token = self._store.list_products(
                tenant, category=category, page_size=_PAGE, page_token=token
            )
            products.extend(page)
            if not token:
                break
        index = CategoryIndex.build(category, products)
        self._cache[(tenant, category)] = (now + TTL_S, index)
        return index

    def brands(self, tenant: str, categories: tuple[str, ...]) -> list[str]:
        names: set[str] = set()
        for category in categories:
            names.update(p.brand for p in self.category(tenant, category).products)
        return sorted(names)
