"""The engine in process against two WooCommerce sandboxes selling one catalog: drift made
in a store's admin is found (by its webhook, or by reconciliation when the webhook is lost)
and overwritten; the health report shows each account."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from omnistock.domain.catalog import ChannelAccount
from omnistock.domain.ids import AccountId, Sku
from omnistock.engine import Engine
from omnistock.kit.merchant import (
    MAIN,
    Merchant,
)
from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.kit.sandbox.woocommerce.store import WooProduct
from omnistock.ledger.store import Store
from tests.integration.engine_rig import engine_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[Store, Merchant, Engine]]:
    async with engine_rig(tmp_path, ("woocommerce", "woocommerce")) as rigged:
        yield rigged


def _woo(shop: Merchant) -> WooSandbox:
    sandbox = shop.stores[0].sandbox
    assert isinstance(sandbox, WooSandbox)
    return sandbox


def _simple(shop: Merchant) -> WooProduct:
    products = [p for p in _woo(shop).store.sellable() if isinstance(p, WooProduct)]
    return sorted(products, key=lambda p: p.sku)[0]


async def test_drift_is_found_by_reconciliation_and_overwritten(
    rig: tuple[Store, Merchant, Engine],
) -> None:
    store, shop, engine = rig
    product = _simple(shop)
    desired = product.stock_quantity
    _woo(shop).faults.apply(FaultSettings(webhook_drop_rate=1.0))
    product.stock_quantity = (desired or 0) + 7  # edited in wp-admin, webhook lost
    _woo(shop).store.touch(product)
    found = await engine.reconcile()
    assert found == {AccountId("woo-1"): 1, AccountId("woo-2"): 0}
    drift = await store.sync.drift(AccountId("woo-1"))
    assert [d.pushed_qty for d in drift] == [(desired or 0) + 7]
    await engine.dispatchers[AccountId("woo-1")].run_once()
    assert product.stock_quantity == desired
    assert await store.sync.drift(AccountId("woo-1")) == []


async def test_drift_reported_by_a_webhook_is_overwritten_by_the_running_engine(
    rig: tuple[Store, Merchant, Engine],
) -> None:
    _, shop, engine = rig
    product = _simple(shop)
    desired = product.stock_quantity
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        product.stock_quantity = (desired or 0) + 3
        _woo(shop).store.touch(product)  # product.updated, not our echo
        async with asyncio.timeout(10):
            while product.stock_quantity != desired:  # noqa: ASYNC110 - the sandbox's state
                await asyncio.sleep(0.02)
        health = await engine.health()
        accounts = health["accounts"]
        assert isinstance(accounts, dict)
        assert accounts["woo-1"]["circuit"] == "closed"
    finally:
        stop.set()
        await task


async def test_an_oversold_order_is_cancelled_on_its_channel_by_policy(
    rig: tuple[Store, Merchant, Engine],
) -> None:
    store, shop, engine = rig
    account = await _account(store, "woo-1")
    settings = {**account.settings, "oversell": "cancel"}
    await store.catalog.put_account(dataclasses.replace(account, settings=settings))
    product = _simple(shop)
    sandbox = _woo(shop)
    sandbox.faults.apply(FaultSettings(webhook_drop_rate=1.0))
    product.stock_quantity = 50  # the store shows more than the merchant has
    sandbox.store.touch(product)
    sandbox.faults.apply(FaultSettings())
    available = (await store.ledger.balances([Sku(product.sku)]))[Sku(product.sku)][MAIN].available
    order_id = sandbox.store.place_order([OrderLine(sku=product.sku, quantity=available + 2)])
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        order = sandbox.store.orders[int(order_id)]
        async with asyncio.timeout(10):
            while order.status != "cancelled":  # noqa: ASYNC110 - the sandbox's state
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
    [incident] = await store.inbox.incidents()
    assert (incident.kind.value, incident.order_id) == ("oversold", order_id)
    balance = (await store.ledger.balances([Sku(product.sku)]))[Sku(product.sku)][MAIN]
    assert balance.reserved == 0  # the oversold line was never reserved


async def _account(store: Store, account: str) -> ChannelAccount:
    return next(a for a in await store.catalog.accounts() if a.id == account)
