"""Linking a discovered Shopify store with several locations, and writing the links: one
location per SKU, never a duplicate or an untracked item."""

from __future__ import annotations

import random

from omnistock.adapters.shopify import INVENTORY_ITEM_ID, LOCATION_ID
from omnistock.clock import SystemClock
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.ledger.store import Store
from omnistock.onboarding.discovery import DiscoveryRunner
from omnistock.onboarding.links import apply_links, link_account
from tests.integration.adapters.test_shopify_discovery import adapter_of, shopify_sandbox

A = AccountId("shop")


async def discovered(store: Store) -> tuple[list[Sku], str, str]:
    harness = shopify_sandbox(
        skus=120, locations=2, mix=ListingMix(unmanaged_share=0.1, duplicate_skus=3)
    )
    adapter = adapter_of(harness)
    runner = DiscoveryRunner(
        store=store, clock=SystemClock(), timer=harness.timer, rng=random.Random(1)
    )
    await runner.run(A, adapter)
    await adapter.aclose()
    skus = sorted({Sku(i.sku) for i in harness.store.items.values()})
    main, second = (str(x) for x in sorted(harness.store.locations))
    await store.catalog.put_location(Location(id=LocationId("main"), name="main"))
    await store.catalog.put_items([Item(sku=s, name=s) for s in skus])
    await store.catalog.put_account(ChannelAccount(id=A, platform="shopify", name="shop"))
    return skus, main, second


async def test_without_a_location_every_sku_at_two_is_a_duplicate(store: Store) -> None:
    skus, _, _ = await discovered(store)
    report, complete = await link_account(store, A, skus)
    assert complete
    assert report.linked == ()
    assert len(report.duplicates) + len(report.unmanaged) == 2 * 120


async def test_with_a_location_links_write_that_location_only(store: Store) -> None:
    skus, _, second = await discovered(store)
    await store.catalog.put_listings(
        [Listing(id=ListingId("kept"), account=A, sku=skus[0], external_ids={"x": "1"})]
    )
    report, _ = await link_account(store, A, skus, location=second)
    assert len(report.elsewhere) == sum(x.managed for x in await store.discovery.listings(A)) // 2
    applied = await apply_links(store, A, report)
    assert skus[0] in applied.kept or skus[0] not in {link.sku for link in report.linked}
    written = {x.id: x for x in await store.catalog.listings(A)}
    linked = {link.sku: link.listing for link in report.linked}
    assert len(linked) > 100 - 12
    for sku, listing in linked.items():
        if sku == skus[0]:
            continue
        row = written[ListingId(f"shop:{sku}")]
        assert row.external_ids[LOCATION_ID] == second
        assert row.external_ids[INVENTORY_ITEM_ID] == listing.external_ids[INVENTORY_ITEM_ID]
    never = {x.sku for x in (*report.duplicates, *report.unmanaged) if x.sku}
    assert not never & {x.sku for x in written.values() if x.id != "kept"}
