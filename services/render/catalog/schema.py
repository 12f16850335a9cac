"""The catalog's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Keys are natural and composite: (tenant, product_id) for products and (tenant, product_id,
shade_id) for shades. Bulk writes then need no RETURNING of surrogate ids, which keeps the seed
one `executemany` per table on both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

# Product ids are compared bytewise on both databases: keyset pagination then walks the same
# order on SQLite (BINARY) and PostgreSQL (collation "C" instead of the database's locale).
ProductIdType = String(128).with_variant(String(128, collation="C"), "postgresql")

products = Table(
    "catalog_products",
    metadata,
    Column("tenant", String(64), nullable=False),
    Column("product_id", ProductIdType, nullable=False),
    Column("brand", String(200), nullable=False),
    # casefold()ed brand: case-insensitive filtering without lower() on the column, identical
    # on both databases (SQLite's lower() is ASCII-only).
    Column("brand_key", String(200), nullable=False),
    Column("name", String(300), nullable=False),
    Column("category", String(32), nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("price_minor", Integer, nullable=False),
    # What the partner sent as swatch_uri (kept and returned as-is); empty: we render one.
    Column("swatch_uri", String(2048), nullable=False),
    Column("swatch_png", LargeBinary, nullable=False),
    # sha256 of the normalised product: an identical re-upsert is detected and not rewritten.
    Column("content_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant", "product_id", name="pk_catalog_products"),
)
Index("ix_catalog_products_brand", products.c.tenant, products.c.brand_key, products.c.product_id)
Index("ix_catalog_products_category", products.c.tenant, products.c.category, products.c.product_id)

shades = Table(
    "catalog_shades",
    metadata,
    Column("tenant", String(64), nullable=False),
    Column("product_id", ProductIdType, nullable=False),
    Column("position", Integer, nullable=False),  # order within the product, 0 = default shade
    Column("shade_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("hex", String(7), nullable=False),  # '#rrggbb', lowercase
    Column("finish", String(16), nullable=False),
    Column("opacity", Float, nullable=False),
    Column("coverage", Float, nullable=False),
    # CIELAB (D65) of `hex`, precomputed so shade matching never parses hex at request time.
    Column("lab_l", Float, nullable=False),
    Column("lab_a", Float, nullable=False),
    Column("lab_b", Float, nullable=False),
    Column("colour_family", String(16), nullable=False),
    PrimaryKeyConstraint("tenant", "product_id", "position", name="pk_catalog_shades"),
    UniqueConstraint("tenant", "product_id", "shade_id", name="uq_catalog_shades_shade_id"),
    ForeignKeyConstraint(
        ["tenant", "product_id"],
        [products.c.tenant, products.c.product_id],
        ondelete="CASCADE",
        name="fk_catalog_shades_product",
    ),
)
Index("ix_catalog_shades_family", shades.c.tenant, shades.c.colour_family, shades.c.product_id)
