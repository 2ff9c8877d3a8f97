"""Finding the listing a channel's report names, by the platform ids it carries."""

from __future__ import annotations

from omnistock.clock import ManualTimer
from omnistock.domain.catalog import Listing
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.ingest.listing_index import ListingIndex
from omnistock.ledger.store import Store
from tests.contract.builders import seed

SHOP = AccountId("shop")


async def _listed(store: Store, listings: dict[str, dict[str, str]]) -> None:
    await seed(store, sorted({name.split("-")[0] for name in listings}))
    await store.catalog.put_listings(
        [
            Listing(
                id=ListingId(f"shop:{name}"),
                account=SHOP,
                sku=Sku(name.split("-")[0]),
                external_ids=ids,
            )
            for name, ids in listings.items()
        ]
    )


async def test_a_report_naming_some_of_a_listings_ids_finds_the_one_listing_holding_them(
    store: Store,
) -> None:
    await _listed(
        store,
        {
            "A-1": {"sku": "A-FBM", "asin": "B001"},  # Amazon: reports name the seller SKU only
            "B-1": {"product_id": "7", "variation_id": "71"},  # WooCommerce variations
            "B-2": {"product_id": "7", "variation_id": "72"},
            "C-1": {"product_id": "8"},
        },
    )
    index = ListingIndex(store, ManualTimer())
    assert await index.find(SHOP, {"sku": "A-FBM"}) == "shop:A-1"
    assert await index.find(SHOP, {"sku": "A-FBM", "asin": "B001"}) == "shop:A-1"
    assert await index.find(SHOP, {"product_id": "7", "variation_id": "72"}) == "shop:B-2"
    assert await index.find(SHOP, {"product_id": "8"}) == "shop:C-1"
    # The parent's id names both variations: no single listing, so none.
    assert await index.find(SHOP, {"product_id": "7"}) is None
    assert await index.find(SHOP, {"sku": "A-FBM", "asin": "B999"}) is None
    assert await index.find(SHOP, {}) is None
    assert await index.find(AccountId("other"), {"sku": "A-FBM"}) is None


async def test_a_listing_added_later_is_found_after_the_reload_interval(store: Store) -> None:
    await _listed(store, {"A-1": {"sku": "A-FBM"}})
    timer = ManualTimer()
    index = ListingIndex(store, timer, reload_s=5.0)
    assert await index.find(SHOP, {"sku": "A-FBM"}) == "shop:A-1"
    await _listed(store, {"A-1": {"sku": "A-FBM"}, "D-1": {"sku": "D-FBM"}})
    assert await index.find(SHOP, {"sku": "D-FBM"}) is None  # loaded just now: not again yet
    timer.advance(5.0)
    assert await index.find(SHOP, {"sku": "D-FBM"}) == "shop:D-1"
