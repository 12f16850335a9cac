"""The product catalog the render service owns: brands, products, shades, swatches.

Public API: `CatalogStore` (SQLite by default, PostgreSQL when `DATABASE_URL` says so),
and `default_database_url`; `python -m services.render.catalog.seed` imports the real shades.
"""

from services.render.catalog.store import (
    PUBLIC_TENANT,
    CatalogStore,
    ShadeTable,
    WriteCounts,
    default_database_url,
)

__all__ = [
    "PUBLIC_TENANT",
    "CatalogStore",
    "ShadeTable",
    "WriteCounts",
    "default_database_url",
]
