"""Seed the public catalog from the real shade data sets and the authored products.

    python -m services.render.catalog.seed [--database-url URL] [--shared-data DIR]

Idempotent: products are compared by content hash, so a second run writes nothing; public
products that left the sources are deleted. One transaction: a failed seed changes nothing.
Prints what cleaning the Makeup API data took (per rule: count and reason) and, per category,
products, shades and brands (`catalog_report()` gives the same text).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from services.common.errors import TryonError
from services.render.catalog.real_catalogs import build_public_catalog, public_catalog
from services.render.catalog.store import (
    PUBLIC_TENANT,
    CatalogStore,
    WriteCounts,
    default_database_url,
)

_REPO_ROOT = Path(__file__).resolve().parents[3]


def default_shared_data() -> Path:
    return Path(os.environ.get("TRYON_SHARED_DATA", _REPO_ROOT.parent / "shared" / "data"))


def seed(store: CatalogStore, shared_data: Path | None = None) -> WriteCounts:
    return store.replace_public_catalog(public_catalog(shared_data or default_shared_data()))


def catalog_report(shared_data: Path | None = None) -> str:
    """The cleaning report and per-category products, shades and brands (real brands apart),
    without touching a database."""
    return build_public_catalog(shared_data or default_shared_data()).summary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="SQLAlchemy URL (default: $DATABASE_URL or sqlite:///var/catalog.db)",
    )
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=default_shared_data(),
        help="folder holding catalog/ (default: $TRYON_SHARED_DATA or ../shared/data)",
    )
    args = parser.parse_args(argv)
    if not (args.shared_data / "catalog").is_dir():
        print(f"no catalog/ under {args.shared_data}: set --shared-data or TRYON_SHARED_DATA",
              file=sys.stderr)  # fmt: skip
        return 2
    store = CatalogStore(args.database_url)
    started = time.perf_counter()
    try:
        built = build_public_catalog(args.shared_data)
        counts = store.replace_public_catalog(built.products)
        per_category = store.counts(PUBLIC_TENANT)
    except TryonError as e:
        print(f"seed failed ({e.code}): {e.message}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    elapsed = time.perf_counter() - started
    print(
        f"catalog seeded into {store.dialect} in {elapsed:.1f} s: {counts.created} created, "
        f"{counts.updated} updated, {counts.unchanged} unchanged, {counts.deleted} deleted"
    )
    print(built.summary())
    total_p = sum(p for p, _ in per_category.values())
    total_s = sum(s for _, s in per_category.values())
    print(f"  {'total':<12} {total_p:>8} {total_s:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
