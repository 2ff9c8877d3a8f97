"""The dispatcher against the Amazon sandbox: a write Amazon accepted but has not applied
yet is not drift to a reconciliation (feeds take minutes to apply); once it should show,
it is read back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import cast

import httpx

from omnistock.adapters.base import (
    Capabilities,
    ChannelAdapter,
    ItemResult,
    ListingRef,
    ObservedLevel,
    RateBurst,
    StockUpdate,
)
from omnistock.adapters.http import account_client
from omnistock.dispatch import AccountDispatcher
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.amazon import AmazonSandbox
from omnistock.ledger.store import Store
from tests.contract.builders import WH, adjusted, counted
from tests.contract.test_adapter_amazon import amazon_adapter
from tests.integration.dispatch.rig import TimerClock

ACCOUNT = AccountId("amazon")


@contextlib.asynccontextmanager
async def _amazon(
    tmp_path: Path, harness: AmazonSandbox
) -> AsyncIterator[tuple[AmazonSandbox, Store, ChannelAdapter]]:
    """The running sandbox, a store on SQLite and the adapter reaching the sandbox."""
    store = await Store.open(f"sqlite:///{tmp_path / 'amazon.db'}")
    async with harness.running():
        client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
        adapter = amazon_adapter(harness, client, harness.api_url())
        try:
            yield harness, store, adapter
        finally:
            await adapter.aclose()
            await store.close()


async def _list(store: Store, refs: Sequence[ListingRef]) -> None:
    """The catalog: one warehouse, the SKUs of `refs`, each listed on the account."""
    await store.catalog.put_location(Location(id=WH, name="Main"))
    await store.catalog.put_items([Item(sku=r.sku) for r in refs])
    await store.catalog.put_account(ChannelAccount(id=ACCOUNT, platform="amazon"))
    await store.catalog.put_listings(
        [
            Listing(id=r.listing, account=ACCOUNT, sku=r.sku, external_ids=r.external_ids)
            for r in refs
        ]
    )


async def test_an_accepted_write_not_applied_yet_is_no_drift(tmp_path: Path) -> None:
    # A feed's minutes, not a patch's seconds.
    async with _amazon(tmp_path, AmazonSandbox.on_manual_clock(apply_delay_s=600.0)) as (
        harness,
        store,
        adapter,
    ):
        refs = await harness.seed(3, quantity=5)
        await _list(store, refs)
        await store.ledger.append([counted(r.sku, 5) for r in refs])
        dispatcher = AccountDispatcher(
            ACCOUNT, adapter, store, harness.timer, TimerClock(harness.timer)
        )
        await dispatcher.run_once()
        harness.settle()
        await store.ledger.append([adjusted(refs[0].sku, -2)])
        assert (await dispatcher.run_once()).pushed == 1  # accepted, applied later
        listing = harness.store.listings[refs[0].external_ids["sku"]]
        assert listing.quantity == 5  # not applied yet (harness.shown would settle)
        assert await dispatcher.reconcile() == 0  # in flight, not drift
        harness.settle()
        assert await harness.held(refs[0]) == 3
        assert await dispatcher.reconcile() == 0
        assert not await store.sync.drift(ACCOUNT)


class _Arrivals:
    """The Amazon adapter, recording each push; during the first one, a sale elsewhere
    sells `sold_out` out (appended to the ledger, the dispatcher woken as the engine
    would)."""

    def __init__(self, adapter: ChannelAdapter, store: Store, sold_out: ListingRef) -> None:
        self._adapter = adapter
        self._store = store
        self._sold_out = sold_out
        self.dispatcher: AccountDispatcher | None = None
        self.pushes: list[list[tuple[str, int]]] = []

    @property
    def capabilities(self) -> Capabilities:
        return self._adapter.capabilities

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        self.pushes.append([(str(u.ref.sku), u.quantity) for u in updates])
        if len(self.pushes) == 1 and self.dispatcher is not None:
            await self._store.ledger.append([adjusted(self._sold_out.sku, -9)])
            self.dispatcher.wake()
        return await self._adapter.push(updates)

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        return await self._adapter.read(refs)


async def test_patches_go_a_burst_at_a_time_and_a_sell_out_meanwhile_goes_next(
    tmp_path: Path,
) -> None:
    async with _amazon(tmp_path, AmazonSandbox.on_manual_clock()) as (harness, store, adapter):
        refs = await harness.seed(12, quantity=5)
        await _list(store, refs)
        await store.ledger.append([counted(r.sku, 9) for r in refs])
        arrivals = _Arrivals(adapter, store, refs[-1])
        dispatcher = AccountDispatcher(
            ACCOUNT,
            cast(ChannelAdapter, arrivals),
            store,
            harness.timer,
            TimerClock(harness.timer),
        )
        arrivals.dispatcher = dispatcher
        burst = adapter.capabilities.rate
        assert isinstance(burst, RateBurst)
        # One burst went, then the pass yielded to the sale that came meanwhile.
        assert (await dispatcher.run_once()).pushed == burst.burst
        assert [len(p) for p in arrivals.pushes] == [burst.burst]
        await dispatcher.run_once()
        sold_out = str(refs[-1].sku)
        assert arrivals.pushes[1][0] == (sold_out, 0)  # first of the next pass
        while (await dispatcher.run_once()).pushed:
            pass
        pushed = [sku for push in arrivals.pushes for sku, _ in push]
        assert sorted(set(pushed)) == sorted(str(r.sku) for r in refs)
        assert all(len(p) <= burst.burst for p in arrivals.pushes)
        harness.settle()
        assert [await harness.held(r) for r in refs] == [9] * 11 + [0]
