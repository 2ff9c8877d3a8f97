"""The engine against a Shopify sandbox, whose writes compare the level they expect: a sale
on the store moves the level the next write expects as soon as the order is in the ledger,
so that write is not refused (and no read of the level follows) even when the sale's own
level report never comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from omnistock.clock import SystemClock
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.engine import Engine
from omnistock.kit.merchant import MAIN, Merchant
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.shopify import ShopifySandbox
from omnistock.ledger.store import Store
from tests.integration.engine_rig import engine_rig

SHOPIFY = AccountId("shopify-1")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[Store, Merchant, Engine]]:
    async with engine_rig(tmp_path, ("shopify",), _orders_only) as rigged:
        yield rigged


async def _orders_only(shop: Merchant) -> None:
    # The level reports of the store's sales never reach the engine.
    _shopify(shop).webhooks.subscribe("orders/create", f"{shop.engine_url}/webhooks/{SHOPIFY}")


def _shopify(shop: Merchant) -> ShopifySandbox:
    sandbox = shop.stores[0].sandbox
    assert isinstance(sandbox, ShopifySandbox)
    return sandbox


async def test_a_sale_on_the_store_is_expected_by_the_next_write(
    rig: tuple[Store, Merchant, Engine],
) -> None:
    store, shop, engine = rig
    sandbox = _shopify(shop)
    sku, shown = max(sandbox.store.shown().items(), key=lambda pair: pair[1])
    assert shown >= 2
    listing = next(row.state.listing for row in await store.sync.of_skus(SHOPIFY, [Sku(sku)]))
    sandbox.core.calls.clear()
    sandbox.store.place_order([OrderLine(sku=sku, quantity=2)])
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        async with asyncio.timeout(10):
            while not await _settled(store, listing, Sku(sku)):  # noqa: ASYNC110 - the store's state
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
    assert sandbox.store.shown_of(sku) == shown - 2
    graphql = [c for c in sandbox.core.calls.records() if c.operation == "graphql"]
    # The one write the order's change of the desired quantity calls for, accepted as sent:
    # no refusal for a stale expected level, so no read of the level and no second write.
    assert len(graphql) == 1, graphql


async def _settled(store: Store, listing: ListingId, sku: Sku) -> bool:
    reserved = (await store.ledger.balances([sku]))[sku][MAIN].reserved
    state = (await store.sync.get([listing]))[listing]
    due = await store.sync.due(SHOPIFY, SystemClock().now())
    return reserved == 2 and state.pushed_qty == state.desired_qty and not due
