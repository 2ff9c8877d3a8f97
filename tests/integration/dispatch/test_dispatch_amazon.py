"""The dispatcher against the Amazon sandbox: a write Amazon accepted but has not applied
yet is not drift to a reconciliation (feeds take minutes to apply); once it should show,
it is read back."""

from __future__ import annotations

from pathlib import Path

import httpx

from omnistock.adapters.http import account_client
from omnistock.dispatch import AccountDispatcher
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.ids import AccountId
from omnistock.ledger.store import Store
from omnistock.sandbox.amazon.harness import AmazonHarness
from tests.contract.builders import WH, adjusted, counted
from tests.contract.test_adapter_amazon import amazon_adapter
from tests.integration.dispatch.rig import TimerClock

ACCOUNT = AccountId("amazon")


async def test_an_accepted_write_not_applied_yet_is_no_drift(tmp_path: Path) -> None:
    harness = AmazonHarness(apply_delay_s=600.0)  # a feed's minutes, not a patch's seconds
    store = await Store.open(f"sqlite:///{tmp_path / 'amazon.db'}")
    async with harness.running():
        client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
        adapter = amazon_adapter(harness, client, harness.api_url())
        try:
            refs = await harness.seed(3, quantity=5)
            await store.catalog.put_location(Location(id=WH, name="Main"))
            await store.catalog.put_items([Item(sku=r.sku) for r in refs])
            await store.catalog.put_account(ChannelAccount(id=ACCOUNT, platform="amazon"))
            await store.catalog.put_listings(
                [
                    Listing(id=r.listing, account=ACCOUNT, sku=r.sku, external_ids=r.external_ids)
                    for r in refs
                ]
            )
            await store.ledger.append([counted(r.sku, 5) for r in refs])
            dispatcher = AccountDispatcher(
                ACCOUNT, adapter, store, harness.timer, TimerClock(harness.timer)
            )
            await dispatcher.run_once()
            harness.settle()
            await store.ledger.append([adjusted(refs[0].sku, -2)])
            assert (await dispatcher.run_once()).pushed == 1  # accepted, applied later
            listing = harness.sandbox.store.listings[refs[0].external_ids["sku"]]
            assert listing.quantity == 5  # not applied yet (harness.shown would settle)
            assert await dispatcher.reconcile() == 0  # in flight, not drift
            harness.settle()
            assert await harness.shown(refs[0]) == 3
            assert await dispatcher.reconcile() == 0
            assert not await store.sync.drift(ACCOUNT)
        finally:
            await adapter.aclose()
            await store.close()
