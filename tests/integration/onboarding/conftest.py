"""A real store per test, SQLite or PostgreSQL (the dispatch tests' `store_url`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from omnistock.ledger.store import Store
from tests.integration.dispatch.conftest import store_url

__all__ = ["store_url"]


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(store_url)
    yield opened
    await opened.close()
