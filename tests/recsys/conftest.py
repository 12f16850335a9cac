"""Fixtures of the recsys tests: the real Amazon Beauty interactions, loaded once.

`shared_data` (the real data folder, TRYON_SHARED_DATA) comes from tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.recsys.interactions import InteractionData, load_amazon_beauty


@pytest.fixture(scope="session")
def beauty(shared_data: Path) -> InteractionData:
    return load_amazon_beauty(shared_data)
