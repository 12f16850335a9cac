"""CatalogStore: products and shades per tenant in SQLite or PostgreSQL (SQLAlchemy Core).

Tenancy: the real catalog seeded from shared data belongs to tenant "public" and every tenant
sees it; a tenant's own products (upsert_products) are visible to that tenant only and, for
that tenant, replace a public product with the same product_id.

Processes: one store per process. Build it after a fork (Celery's worker_process_init, or
lazily on first use), never before: an engine's pooled connections must not cross a fork.
The schema is created on first use, not in the constructor, so importing and constructing
never touch the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote

import numpy as np
from sqlalchemy import (
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import String

from services.common.color import hex_to_lab
from services.common.colour_families import ALL_FAMILIES, colour_family
from services.common.database import default_database_url, make_engine, normalise_url
from services.common.errors import ErrorCode, TryonError
from services.common.payloads import (
    AppliedProduct,
    Category,
    ProductPayload,
    ShadePayload,
)
from services.render.catalog.page_token import (
    decode_page_token,
    encode_page_token,
    filters_fingerprint,
)
from services.render.catalog.product_cache import TtlLruCache
from services.render.catalog.schema import metadata, products, shades
from services.render.catalog.swatch import render_swatch_png
from services.render.catalog.validation import CATEGORIES, check_batch, check_tenant
from services.render.look import require_try_on_able

PUBLIC_TENANT = "public"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# How long another process may serve a product it cached before seeing an upsert.
CACHE_TTL_S = 30.0
_CACHE_SIZE = 4096
_SCHEMA_LOCK_ID = 0x7472796F6E  # "tryon": serialises create_all across processes on PostgreSQL
_SHADE_ID_HINTS = 5
_IN_CHUNK = 500  # ids per IN (...) list, well under SQLite's and PostgreSQL's parameter limits
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
_LIKE_ESCAPE = "\\"

_PRODUCT_COLUMNS = [
    products.c.tenant,
    products.c.product_id,
    products.c.brand,
    products.c.name,
    products.c.category,
    products.c.price_currency,
    products.c.price_minor,
    products.c.swatch_uri,
]


@dataclass(frozen=True)
class ShadeTable:
    """Every shade of one category visible to a tenant, as arrays for nearest-colour search."""

    category: str
    product_ids: tuple[str, ...]
    shade_ids: tuple[str, ...]
    hexes: tuple[str, ...]
    colour_families: tuple[str, ...]
    lab: np.ndarray  # (N, 3) float64 CIELAB D65, read-only

    def __len__(self) -> int:
        return len(self.shade_ids)


class WriteCounts(NamedTuple):
    created: int
    updated: int
    unchanged: int
    deleted: int


@dataclass(frozen=True, slots=True)
class _CachedProduct:
    product_id: str
    category: Category
    shades: tuple[ShadePayload, ...]
    by_id: Mapping[str, ShadePayload]


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _content_hash(product: ProductPayload) -> str:
    text = json.dumps(product.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _normalise(product: ProductPayload) -> ProductPayload:
    """Lowercase hex: '#D62352' and '#d62352' are the same shade, and the same upsert twice
    must hash the same."""
    if all(s.hex == s.hex.lower() for s in product.shades):
        return product
    fixed = [s.model_copy(update={"hex": s.hex.lower()}) for s in product.shades]
    return product.model_copy(update={"shades": fixed})


def _query_words(query: str | None) -> list[str]:
    """A text query's words (split on whitespace), checked against the API's limits."""
    text = " ".join((query or "").split())
    words = text.split()
    if len(text) > MAX_QUERY_CHARS or len(words) > MAX_QUERY_WORDS:
        raise TryonError(
            ErrorCode.INVALID_ARGUMENT,
            f"query is {len(text)} characters and {len(words)} words: use at most "
            f"{MAX_QUERY_CHARS} characters and {MAX_QUERY_WORDS} words",
        )
    return words


def _word_matches(word: str) -> ColumnElement[bool]:
    """`word` appears, case-insensitively, in the product's brand, name or one of its shade
    names. LIKE with its wildcards escaped and lower() on both sides, the same on SQLite and
    PostgreSQL. The word is also lowered here: SQLite's lower() (and PostgreSQL's under the C
    locale) folds ASCII letters only, so "LUMIÈRE" still finds "Lumière"; only upper-case
    non-ASCII letters in the catalog ("LUMIÈRE" stored as such) match just their own case."""
    escaped = (
        word.lower()
        .replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    pattern = func.lower(literal(f"%{escaped}%", String))

    def like(column: ColumnElement[str]) -> ColumnElement[bool]:
        return func.lower(column).like(pattern, escape=_LIKE_ESCAPE)

    return or_(
        like(products.c.brand),
        like(products.c.name),
        exists().where(
            shades.c.tenant == products.c.tenant,
            shades.c.product_id == products.c.product_id,
            like(shades.c.name),
        ),
    )


def swatch_path_uri(owner_tenant: str, product_id: str) -> str:
    """The short swatch reference list pages carry; get_swatch_png() serves its bytes."""
    return f"tryon://swatch/{quote(owner_tenant, safe='')}/{quote(product_id, safe='')}"


class CatalogStore:
    def __init__(
        self,
        database_url: str | None = None,
        *,
        cache_ttl_s: float = CACHE_TTL_S,
        cache_size: int = _CACHE_SIZE,
    ) -> None:
        self._url = normalise_url(database_url or default_database_url())
        self._engine = make_engine(self._url)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._products_cache: TtlLruCache[tuple[str, str], _CachedProduct] = TtlLruCache(
            cache_size, cache_ttl_s
        )
        self._shade_tables: TtlLruCache[tuple[str, str], ShadeTable] = TtlLruCache(64, cache_ttl_s)

    @property
    def dialect(self) -> str:
        return self._url.get_backend_name()

    def dispose(self) -> None:
        """Close pooled connections (at shutdown, or in a child right after a fork)."""
        self._engine.dispose()

    # --- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _db(self) -> Iterator[None]:
        """Database failures as TryonErrors: the caller learns whether retrying can help."""
        try:
            yield
        except (OperationalError, InterfaceError) as e:
            where = self._url.render_as_string(hide_password=True)
            raise TryonError(
                ErrorCode.UNAVAILABLE,
                f"the catalog database ({where}) is unavailable: {e.orig or e}; retry later",
            ) from e
        except IntegrityError as e:
            raise TryonError(
                ErrorCode.UNAVAILABLE,
                "another upsert wrote the same products at the same time; retry the call "
                "(upserts are idempotent)",
            ) from e
        except SQLAlchemyError as e:
            raise TryonError(ErrorCode.INTERNAL, f"catalog database error: {e}") from e

    def ensure_schema(self) -> None:
        """Create the tables if they are missing (idempotent, safe across processes)."""
        if self._schema_ready:
            return
        with self._schema_lock, self._db():
            if self._schema_ready:
                return
            with self._engine.begin() as conn:
                if self.dialect == "postgresql":
                    # DDL is transactional here: the lock makes concurrent starts wait, not race.
                    conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_ID)))
                metadata.create_all(conn)
            self._schema_ready = True

    @staticmethod
    def _visible(tenant: str) -> ColumnElement[bool]:
        """Rows of `products` this tenant sees: its own, and public ones it does not override."""
        if tenant == PUBLIC_TENANT:
            return products.c.tenant == PUBLIC_TENANT
        own = products.alias("own")
        overridden = exists().where(
            own.c.tenant == tenant, own.c.product_id == products.c.product_id
        )
        return or_(
            products.c.tenant == tenant,
            and_(products.c.tenant == PUBLIC_TENANT, ~overridden),
        )

    @staticmethod
    def _load_shades(
        conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[ShadePayload]]:
        """Shades of (owner tenant, product_id) pairs, in position order."""
        out: dict[tuple[str, str], list[ShadePayload]] = defaultdict(list)
        if not keys:
            return out
        wanted = set(keys)
        tenants = sorted({t for t, _ in keys})
        ids = sorted({p for _, p in keys})
        cols = [
            shades.c.tenant, shades.c.product_id, shades.c.shade_id, shades.c.name,
            shades.c.hex, shades.c.finish, shades.c.opacity, shades.c.coverage,
        ]  # fmt: skip
        for chunk in _chunks(ids):
            rows = conn.execute(
                select(*cols)
                .where(shades.c.tenant.in_(tenants), shades.c.product_id.in_(chunk))
                .order_by(shades.c.tenant, shades.c.product_id, shades.c.position)
            )
            for t, pid, sid, name, hex_, finish, opacity, coverage in rows:
                if (t, pid) in wanted:
                    out[(t, pid)].append(
                        ShadePayload(
                            shade_id=sid,
                            name=name,
                            hex=hex_,
                            finish=finish,
                            opacity=opacity,
                            coverage=coverage,
                        )  # fmt: skip
                    )
        return out

    @staticmethod
    def _payload(row: Any, shade_list: list[ShadePayload], swatch_uri: str) -> ProductPayload:
        return ProductPayload(
            product_id=row.product_id,
            brand=row.brand,
            name=row.name,
            category=row.category,
            shades=shade_list,
            price_currency=row.price_currency,
            price_minor=row.price_minor,
            swatch_uri=swatch_uri,
        )

    # --- reads ----------------------------------------------------------------------------

    def list_products(
        self,
        tenant: str,
        *,
        brand: str | None = None,
        category: str | None = None,
        colour_family: str | None = None,
        min_price_minor: int | None = None,
        max_price_minor: int | None = None,
        currency: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str = "",
        query: str | None = None,
    ) -> tuple[list[ProductPayload], str]:
        """One page of the products `tenant` sees, ordered by product_id (bytewise), and the
        token of the next page ("" on the last one).

        Filters combine with AND; empty strings and None mean "any". brand matches the whole
        brand name, case-insensitively. colour_family matches a product when ANY of its shades
        is in that family. Price bounds are inclusive, in minor units, and, when either is
        given, leave out products whose price is unknown (price_minor 0, e.g. the seeded real
        catalog); `currency` restricts to one ISO 4217 code. `query` is a text search: every
        one of its words (at most MAX_QUERY_WORDS) appears, case-insensitively, in the brand,
        the product name or one of the product's shade names. Swatches come as
        tryon://swatch/<tenant>/<product_id> references (see get_swatch_png).
        """
        check_tenant(tenant)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise TryonError(
                ErrorCode.INVALID_ARGUMENT,
                f"page_size {page_size} is out of range: use 1..{MAX_PAGE_SIZE} "
                f"(0 in the API means the default, {DEFAULT_PAGE_SIZE})",
            )
        if category and category not in CATEGORIES:
            raise TryonError(
                ErrorCode.INVALID_ARGUMENT,
                f"category {category!r} is not one of: {', '.join(CATEGORIES)}",
            )
        if colour_family and colour_family not in ALL_FAMILIES:
            raise TryonError(
                ErrorCode.INVALID_ARGUMENT,
                f"colour_family {colour_family!r} is not one of: {', '.join(sorted(ALL_FAMILIES))}",
            )
        for label, bound in (("min_price", min_price_minor), ("max_price", max_price_minor)):
            if bound is not None and bound < 0:
                raise TryonError(
                    ErrorCode.INVALID_ARGUMENT, f"{label} {bound} must be >= 0 (minor units)"
                )
        if (
            min_price_minor is not None
            and max_price_minor is not None
            and min_price_minor > max_price_minor
        ):
            raise TryonError(
                ErrorCode.INVALID_ARGUMENT,
                f"min_price {min_price_minor} is above max_price {max_price_minor}: swap them",
            )
        brand_key = brand.strip().casefold() if brand and brand.strip() else None
        filters = {
            "tenant": tenant, "brand": brand_key, "category": category or None,
            "family": colour_family or None, "min": min_price_minor, "max": max_price_minor,
            "currency": currency or None,
        }  # fmt: skip
        words = _query_words(query)
        if words:  # only then: tokens of queries without text keep their fingerprint
            filters["query"] = " ".join(words).lower()
        fingerprint = filters_fingerprint(filters)
        after = decode_page_token(page_token, fingerprint) if page_token else None

        conds: list[ColumnElement[bool]] = [self._visible(tenant)]
        if brand_key:
            conds.append(products.c.brand_key == brand_key)
        if category:
            conds.append(products.c.category == category)
        if colour_family:
            conds.append(
                exists().where(
                    shades.c.tenant == products.c.tenant,
                    shades.c.product_id == products.c.product_id,
                    shades.c.colour_family == colour_family,
                )
            )
        if min_price_minor is not None or max_price_minor is not None:
            conds.append(products.c.price_minor > 0)
            if min_price_minor is not None:
                conds.append(products.c.price_minor >= min_price_minor)
            if max_price_minor is not None:
                conds.append(products.c.price_minor <= max_price_minor)
        if currency:
            conds.append(products.c.price_currency == currency.upper())
        conds.extend(_word_matches(w) for w in words)
        if after is not None:
            conds.append(products.c.product_id > after)

        self.ensure_schema()
        with self._db(), self._engine.connect() as conn:
            rows = conn.execute(
                select(*_PRODUCT_COLUMNS)
                .where(*conds)
                .order_by(products.c.product_id)
                .limit(page_size + 1)
            ).all()
            more = len(rows) > page_size
            rows = rows[:page_size]
            by_key = self._load_shades(conn, [(r.tenant, r.product_id) for r in rows])
        page = [
            self._payload(
                r,
                by_key[(r.tenant, r.product_id)],
                r.swatch_uri or swatch_path_uri(r.tenant, r.product_id),
            )
            for r in rows
        ]
        token = encode_page_token(rows[-1].product_id, fingerprint) if more and rows else ""
        return page, token

    def get_product(
        self, tenant: str, product_id: str, *, include_swatch: bool = False
    ) -> ProductPayload:
        """The product as `tenant` sees it. include_swatch: swatch_uri is the PNG itself as a
        data: URI (~1-5 KB); otherwise the tryon://swatch/... reference. A swatch_uri the
        partner supplied is always returned as they gave it."""
        check_tenant(tenant)
        cols = [*_PRODUCT_COLUMNS, products.c.swatch_png] if include_swatch else _PRODUCT_COLUMNS
        self.ensure_schema()
        with self._db(), self._engine.connect() as conn:
            row = conn.execute(
                select(*cols).where(self._visible(tenant), products.c.product_id == product_id)
            ).first()
            if row is None:
                raise TryonError(
                    ErrorCode.NOT_FOUND,
                    f"product {product_id!r} not found in your catalog: "
                    "check the id (ListProducts shows what you can use)",
                )
            shade_list = self._load_shades(conn, [(row.tenant, row.product_id)])[
                (row.tenant, row.product_id)
            ]
        if row.swatch_uri:
            uri = row.swatch_uri
        elif include_swatch:
            uri = "data:image/png;base64," + base64.b64encode(row.swatch_png).decode("ascii")
        else:
            uri = swatch_path_uri(row.tenant, row.product_id)
        return self._payload(row, shade_list, uri)

    def get_swatch_png(self, tenant: str, product_id: str) -> bytes:
        """PNG bytes of the swatch we rendered for a product `tenant` sees (tryon:// URIs)."""
        check_tenant(tenant)
        self.ensure_schema()
        with self._db(), self._engine.connect() as conn:
            png = conn.execute(
                select(products.c.swatch_png).where(
                    self._visible(tenant), products.c.product_id == product_id
                )
            ).scalar()
        if png is None:
            raise TryonError(
                ErrorCode.NOT_FOUND, f"product {product_id!r} not found in your catalog"
            )
        return bytes(png)

    def resolve_look(
        self, tenant: str, applications: Sequence[AppliedProduct]
    ) -> list[AppliedProduct]:
        """Look entries -> shades to paint, in the given order. An empty shade_id means the
        product's first shade; eyeshadow without a zone goes on the lid. Products are cached
        per (tenant, product_id) for CACHE_TTL_S: this process sees its own upserts at once,
        other processes within that time."""
        check_tenant(tenant)
        wanted = {a.product_id for a in applications}
        cached: dict[str, _CachedProduct] = {}
        for pid in wanted:
            hit = self._products_cache.get((tenant, pid))
            if hit is not None:
                cached[pid] = hit
        missing = sorted(wanted - cached.keys())
        if missing:
            for product in self._load_for_look(tenant, missing):
                cached[product.product_id] = product
                self._products_cache.put((tenant, product.product_id), product)

        out: list[AppliedProduct] = []
        for i, app in enumerate(applications):
            product = cached.get(app.product_id)
            if product is None:
                raise TryonError(
                    ErrorCode.NOT_FOUND,
                    f"product {app.product_id!r} not found in your catalog "
                    f"(look.applications[{i}]): check the id with ListProducts",
                )
            if app.shade_id:
                shade = product.by_id.get(app.shade_id)
                if shade is None:
                    valid = ", ".join(repr(s.shade_id) for s in product.shades[:_SHADE_ID_HINTS])
                    more = len(product.shades) - _SHADE_ID_HINTS
                    tail = f" and {more} more (GetProduct lists them)" if more > 0 else ""
                    raise TryonError(
                        ErrorCode.NOT_FOUND,
                        f"shade {app.shade_id!r} not found in product {app.product_id!r} "
                        f"(look.applications[{i}]); valid shade ids: {valid}{tail}",
                    )
            else:
                shade = product.shades[0]
            require_try_on_able(
                product.category, f"product {app.product_id!r} (look.applications[{i}])"
            )
            if product.category == "eyeshadow":
                zone: str | None = app.zone or "lid"
            elif app.zone is not None:
                raise TryonError(
                    ErrorCode.INVALID_ARGUMENT,
                    f"look.applications[{i}].zone {app.zone!r} is for eyeshadow only; product "
                    f"{app.product_id!r} is a {product.category}: leave zone empty",
                )
            else:
                zone = None
            out.append(
                app.model_copy(
                    update={
                        "shade_id": shade.shade_id,
                        "category": product.category,
                        "hex": shade.hex,
                        "finish": shade.finish,
                        "opacity": shade.opacity,
                        "coverage": shade.coverage,
                        "zone": zone,
                    }
                )
            )
        return out

    def _load_for_look(self, tenant: str, product_ids: Sequence[str]) -> list[_CachedProduct]:
        self.ensure_schema()
        found: list[_CachedProduct] = []
        with self._db(), self._engine.connect() as conn:
            rows = []
            for chunk in _chunks(product_ids):
                rows += conn.execute(
                    select(products.c.tenant, products.c.product_id, products.c.category).where(
                        self._visible(tenant), products.c.product_id.in_(chunk)
                    )
                ).all()
            by_key = self._load_shades(conn, [(r.tenant, r.product_id) for r in rows])
        for r in rows:
            shade_list = tuple(by_key[(r.tenant, r.product_id)])
            if shade_list:  # a product always has shades; a half-deleted one is not resolvable
                found.append(
                    _CachedProduct(
                        product_id=r.product_id,
                        category=r.category,
                        shades=shade_list,
                        by_id=MappingProxyType({s.shade_id: s for s in shade_list}),
                    )
                )
        return found

    def all_shades(self, category: str, *, tenant: str = PUBLIC_TENANT) -> ShadeTable:
        """Every shade of `category` that `tenant` sees, with CIELAB as an (N, 3) array, for
        shade matching. Cached per (tenant, category) like resolve_look's products."""
        check_tenant(tenant)
        if category not in CATEGORIES:
            raise TryonError(
                ErrorCode.INVALID_ARGUMENT,
                f"category {category!r} is not one of: {', '.join(CATEGORIES)}",
            )
        hit = self._shade_tables.get((tenant, category))
        if hit is not None:
            return hit
        self.ensure_schema()
        with self._db(), self._engine.connect() as conn:
            rows = conn.execute(
                select(
                    shades.c.product_id,
                    shades.c.shade_id,
                    shades.c.hex,
                    shades.c.colour_family,
                    shades.c.lab_l,
                    shades.c.lab_a,
                    shades.c.lab_b,
                )  # fmt: skip
                .join(
                    products,
                    and_(
                        products.c.tenant == shades.c.tenant,
                        products.c.product_id == shades.c.product_id,
                    ),
                )
                .where(self._visible(tenant), products.c.category == category)
                .order_by(shades.c.product_id, shades.c.position)
            ).all()
        lab = np.array([(r.lab_l, r.lab_a, r.lab_b) for r in rows], dtype=np.float64).reshape(-1, 3)
        lab.setflags(write=False)
        table = ShadeTable(
            category=category,
            product_ids=tuple(r.product_id for r in rows),
            shade_ids=tuple(r.shade_id for r in rows),
            hexes=tuple(r.hex for r in rows),
            colour_families=tuple(r.colour_family for r in rows),
            lab=lab,
        )
        self._shade_tables.put((tenant, category), table)
        return table

    # --- writes ---------------------------------------------------------------------------

    def upsert_products(
        self, tenant: str, products_in: Sequence[ProductPayload]
    ) -> tuple[int, int]:
        """Create or replace `tenant`'s products, all or nothing: returns (created, updated).

        Everything is validated before the single write transaction. A product identical to
        the stored one (same fields and shades in the same order) is left untouched and counted
        in neither number, so the same upsert twice returns (0, 0) the second time; a changed
        product is replaced whole (its shades too) and counted as updated. Max 1,000 products
        per call. The "public" catalog is written only by the seed.
        """
        check_tenant(tenant)
        if tenant == PUBLIC_TENANT:
            raise TryonError(
                ErrorCode.FAILED_PRECONDITION,
                "the 'public' catalog is shared by every tenant and written only by the seed "
                "(python -m services.render.catalog.seed): upsert with your own tenant's API key",
            )
        check_batch(products_in)
        counts = self._write(tenant, products_in, prune=False)
        return counts.created, counts.updated

    def replace_public_catalog(self, products_in: Sequence[ProductPayload]) -> WriteCounts:
        """The seed's write: make the public catalog exactly `products_in` (one transaction;
        public products not in the list are deleted, unchanged ones are not rewritten)."""
        if len(products_in) == 0:
            raise TryonError(ErrorCode.INVALID_ARGUMENT, "refusing to empty the public catalog")
        # Same checks as a partner's batch, except the size cap (the seed is ~500 products).
        check_batch(products_in, max_products=None)
        return self._write(PUBLIC_TENANT, products_in, prune=True)

    def _write(
        self, tenant: str, products_in: Sequence[ProductPayload], *, prune: bool
    ) -> WriteCounts:
        prepared = [_normalise(p) for p in products_in]
        hashes = [_content_hash(p) for p in prepared]
        ids = [p.product_id for p in prepared]
        self.ensure_schema()
        now = datetime.now(UTC)
        with self._db(), self._engine.begin() as conn:
            existing: dict[str, tuple[str, datetime]] = {}
            if prune:
                for pid, h, created in conn.execute(
                    select(
                        products.c.product_id, products.c.content_hash, products.c.created_at
                    ).where(products.c.tenant == tenant)
                ):
                    existing[pid] = (h, created)
            else:
                for chunk in _chunks(ids):
                    for pid, h, created in conn.execute(
                        select(
                            products.c.product_id, products.c.content_hash, products.c.created_at
                        ).where(products.c.tenant == tenant, products.c.product_id.in_(chunk))
                    ):
                        existing[pid] = (h, created)
            to_write = [
                (p, h) for p, h in zip(prepared, hashes, strict=True)
                if existing.get(p.product_id, ("", now))[0] != h
            ]  # fmt: skip
            replaced = [p.product_id for p, _ in to_write if p.product_id in existing]
            stale = sorted(existing.keys() - set(ids)) if prune else []
            doomed = replaced + stale
            for chunk in _chunks(doomed):
                # Shades first: SQLite enforces the foreign key only when the pragma is on.
                conn.execute(
                    delete(shades).where(shades.c.tenant == tenant, shades.c.product_id.in_(chunk))
                )
                conn.execute(
                    delete(products).where(
                        products.c.tenant == tenant, products.c.product_id.in_(chunk)
                    )
                )
            if to_write:
                product_rows, shade_rows = self._rows(tenant, to_write, existing, now)
                conn.execute(insert(products), product_rows)
                conn.execute(insert(shades), shade_rows)
        # After the commit: a failed write leaves the caches as they were, and correct.
        if tenant == PUBLIC_TENANT:
            self._products_cache.clear()  # every tenant sees public products
            self._shade_tables.clear()
        else:
            self._products_cache.invalidate((tenant, pid) for pid in ids)
            self._shade_tables.invalidate_where(lambda key: key[0] == tenant)
        created = len(to_write) - len(replaced)
        return WriteCounts(created, len(replaced), len(prepared) - len(to_write), len(stale))

    @staticmethod
    def _rows(
        tenant: str,
        to_write: Sequence[tuple[ProductPayload, str]],
        existing: Mapping[str, tuple[str, datetime]],
        now: datetime,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        all_hex = [s.hex for p, _ in to_write for s in p.shades]
        lab = hex_to_lab(all_hex)
        product_rows: list[dict[str, Any]] = []
        shade_rows: list[dict[str, Any]] = []
        k = 0
        for p, h in to_write:
            png = b"" if p.swatch_uri else render_swatch_png([(s.hex, s.finish) for s in p.shades])
            product_rows.append(
                {
                    "tenant": tenant,
                    "product_id": p.product_id,
                    "brand": p.brand,
                    "brand_key": p.brand.strip().casefold(),
                    "name": p.name,
                    "category": p.category,
                    "price_currency": p.price_currency,
                    "price_minor": p.price_minor,
                    "swatch_uri": p.swatch_uri,
                    "swatch_png": png,
                    "content_hash": h,
                    "created_at": existing[p.product_id][1] if p.product_id in existing else now,
                    "updated_at": now,
                }
            )
            for position, s in enumerate(p.shades):
                lab_l, lab_a, lab_b = (float(v) for v in lab[k])
                k += 1
                shade_rows.append(
                    {
                        "tenant": tenant,
                        "product_id": p.product_id,
                        "position": position,
                        "shade_id": s.shade_id,
                        "name": s.name,
                        "hex": s.hex,
                        "finish": s.finish,
                        "opacity": s.opacity,
                        "coverage": s.coverage,
                        "lab_l": lab_l,
                        "lab_a": lab_a,
                        "lab_b": lab_b,
                        "colour_family": colour_family(p.category, (lab_l, lab_a, lab_b)),
                    }
                )
        return product_rows, shade_rows

    # --- introspection for the seed and tests ---------------------------------------------

    def counts(self, tenant: str = PUBLIC_TENANT) -> dict[str, tuple[int, int]]:
        """category -> (products, shades) stored under exactly this tenant."""
        self.ensure_schema()
        with self._db(), self._engine.connect() as conn:
            n_products = dict(
                conn.execute(
                    select(products.c.category, func.count())
                    .where(products.c.tenant == tenant)
                    .group_by(products.c.category)
                ).all()
            )
            n_shades = dict(
                conn.execute(
                    select(products.c.category, func.count())
                    .select_from(
                        shades.join(
                            products,
                            and_(
                                products.c.tenant == shades.c.tenant,
                                products.c.product_id == shades.c.product_id,
                            ),
                        )
                    )
                    .where(products.c.tenant == tenant)
                    .group_by(products.c.category)
                ).all()
            )
        return {c: (int(n_products[c]), int(n_shades.get(c, 0))) for c in sorted(n_products)}
