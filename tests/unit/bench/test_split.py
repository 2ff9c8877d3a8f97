"""bench.split: the platforms in a child process, the engine here, over real sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from omnistock.domain.events import StockReceived
from omnistock.domain.ids import Sku
from omnistock.kit.bench.split import PlatformSide, SplitOptions, split_shop
from omnistock.kit.merchant import MAIN

OPTIONS = SplitOptions(("woocommerce", "shopify"), skus=6, seed=3, opening_low=2, opening_high=4)


async def _restock_and_watch(side: PlatformSide, sku: object) -> dict[str, object]:
    """In the child: one receipt through the engine's API, then what each store shows."""
    assert isinstance(sku, str)
    before = {s.account: s.sandbox.shown().get(sku, 0) for s in side.merchant.stores}
    at = StockReceived(
        idempotency_key="split-test",
        sku=Sku(sku),
        location=MAIN,
        quantity=40,
        source="test",
        occurred_at=datetime.now(UTC),
    )
    await side.append([at], "split-test")
    for _ in range(200):  # the engine pushes it to both stores over HTTP
        shown = {s.account: s.sandbox.shown().get(sku, 0) for s in side.merchant.stores}
        if all(shown[a] >= before[a] + 40 for a in shown):
            break
        await asyncio.sleep(0.05)
    return {"before": before, "after": shown, "writes": side.write_calls()}


async def _fails(side: PlatformSide, argument: object) -> None:
    raise ValueError(f"the work failed on {argument!r}")


@pytest.mark.timeout(120)
async def test_the_engine_here_syncs_the_stores_there(tmp_path: Path) -> None:
    sku = "OS-00001"
    async with split_shop(OPTIONS, tmp_path, _restock_and_watch, sku) as split:
        result = split.result
        assert set(split.engine.dispatchers) == {"woo-1", "shopify-1"}
        balance = (await split.store.ledger.balances([Sku(sku)]))[Sku(sku)][MAIN]
    before, after, writes = result["before"], result["after"], result["writes"]
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    assert isinstance(writes, dict)
    assert balance.on_hand >= 40
    for account in ("woo-1", "shopify-1"):
        assert after[account] == before[account] + 40
        assert writes[account] >= 1


@pytest.mark.timeout(120)
async def test_a_failure_in_the_platforms_process_is_raised_here(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="the work failed on 'named'"):
        async with split_shop(OPTIONS, tmp_path, _fails, "named"):
            pytest.fail("the work failed: nothing to yield")
