"""A rig per test: the WooCommerce sandbox in process and a real store, SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.ledger.store import Store
from tests.integration.dispatch.rig import WEBHOOK_SECRET, Rig, open_rig


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def rig(store_url: str) -> AsyncIterator[Rig]:
    harness = WooSandbox.on_manual_clock(webhook_secret=WEBHOOK_SECRET)
    store = await Store.open(store_url)
    async with harness.running():
        opened = await open_rig(harness, store)
        yield opened
        await opened.adapter.aclose()
    await store.close()
