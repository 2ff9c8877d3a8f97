"""The dispatcher against the eBay sandbox: only the day's calls are metered, so a pass
keeps several writes in flight instead of waiting out each round trip."""

from __future__ import annotations

import random

import httpx

from omnistock.adapters.base import DailyQuota
from omnistock.adapters.http import account_client
from omnistock.dispatch.dispatcher import AccountDispatcher
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.ebay import EbaySandbox
from omnistock.ledger.store import Store
from tests.contract.builders import WH, counted
from tests.contract.test_adapter_ebay import ebay_adapter
from tests.integration.dispatch.rig import RecordingAdapter, TimerClock

ACCOUNT = AccountId("ebay")


async def test_a_pass_keeps_several_writes_in_flight(store_url: str) -> None:
    harness = EbaySandbox.on_manual_clock()
    store = await Store.open(store_url)
    async with harness.running():
        client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
        adapter = RecordingAdapter(ebay_adapter(harness, client))
        refs = await harness.seed(100, quantity=5)
        await store.catalog.put_location(Location(id=WH, name="Main"))
        await store.catalog.put_account(ChannelAccount(id=ACCOUNT, platform="ebay"))
        await store.catalog.put_items([Item(sku=r.sku) for r in refs])
        listings = [
            Listing(id=r.listing, account=ACCOUNT, sku=r.sku, external_ids=r.external_ids)
            for r in refs
        ]
        await store.catalog.put_listings(listings)
        await store.ledger.append([counted(r.sku, 9) for r in refs])
        timer = harness.timer
        dispatcher = AccountDispatcher(
            ACCOUNT, adapter, store, timer, TimerClock(timer), rng=random.Random(7)
        )
        report = await dispatcher.run_once()
        shown = [await harness.held(r) for r in refs]
        await adapter.aclose()
    await store.close()
    rate = adapter.capabilities.rate
    assert isinstance(rate, DailyQuota)
    assert (report.pushed, report.succeeded, report.calls) == (100, 100, 4)
    assert adapter.most_in_flight == rate.max_in_flight == 4
    assert shown == [9] * 100
