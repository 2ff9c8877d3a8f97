"""Shopify discovery against its sandbox, in process: variants paged by cursor, one listing
per location, untracked items, shared SKUs, the cost plan, a throttled page resumed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from graphql import parse, validate

from omnistock.adapters.http import account_client
from omnistock.adapters.shopify import INVENTORY_ITEM_ID, LOCATION_ID, ShopifyAdapter
from omnistock.adapters.shopify import discovery as plan
from omnistock.adapters.shopify.wire import VARIANT_ID
from omnistock.domain.errors import PermanentError, TransientError
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.shopify import ShopifySandbox
from omnistock.kit.sandbox.shopify.app import ShopifyConfig
from omnistock.kit.sandbox.shopify.face import SIGNATURE_HEADER
from omnistock.kit.sandbox.shopify.schema import admin_schema
from tests.contract.test_adapter_shopify import shopify_adapter
from tests.integration.adapters.discovering import discover_all


def shopify_sandbox(**config: object) -> ShopifySandbox:
    return build_on_manual_clock(
        ShopifySandbox,
        ShopifyConfig(**config),  # type: ignore[arg-type]
        signature_header=SIGNATURE_HEADER,
        hang_s=0.01,
    )


def adapter_of(harness: ShopifySandbox) -> ShopifyAdapter:
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    return shopify_adapter(harness, client)


@pytest.fixture
async def shop() -> AsyncIterator[tuple[ShopifySandbox, ShopifyAdapter]]:
    harness = shopify_sandbox(
        skus=400, locations=3, mix=ListingMix(unmanaged_share=0.1, duplicate_skus=4)
    )
    adapter = adapter_of(harness)
    yield harness, adapter
    await adapter.aclose()


@pytest.mark.parametrize("document", plan.DOCUMENTS)
def test_every_discovery_document_validates(document: str) -> None:
    assert validate(admin_schema(), parse(document)) == []


def test_a_page_stays_within_the_query_cost_limit() -> None:
    for levels in (1, 3, 10, plan.LEVELS_CAP):
        first = plan.page_size(levels)
        assert plan.variants_cost(first, levels) <= plan.MAX_QUERY_COST
        assert first == plan.MAX_PAGE or plan.variants_cost(first + 1, levels) > 1000


async def test_one_listing_per_variant_and_location(
    shop: tuple[ShopifySandbox, ShopifyAdapter],
) -> None:
    harness, adapter = shop
    found, pages = await discover_all(adapter)
    items = harness.store.items
    assert len(found) == sum(len(i.levels) for i in items.values()) == 3 * 400
    assert len({x.key for x in found}) == len(found)
    assert pages == -(-400 // plan.page_size(3))
    by_item = {i.id: i for i in items.values()}
    for listing in found:
        item = by_item[int(listing.external_ids[INVENTORY_ITEM_ID])]
        location = int(listing.external_ids[LOCATION_ID])
        assert listing.external_ids[VARIANT_ID] == str(item.variant_id)
        assert listing.key == f"{item.variant_id}@{location}"
        assert listing.location == str(location)
        assert listing.sku == item.sku
        assert listing.managed is item.tracked
        expected = item.levels[location].available if item.tracked else None
        assert listing.quantity == expected


async def test_untracked_items_and_shared_skus_are_discovered_as_they_are(
    shop: tuple[ShopifySandbox, ShopifyAdapter],
) -> None:
    _, adapter = shop
    found, _ = await discover_all(adapter)
    assert sum(not x.managed for x in found) == 3 * 40
    variants = {x.external_ids[VARIANT_ID]: x.sku for x in found}
    skus = list(variants.values())
    assert len(skus) - len(set(skus)) == 4


async def test_an_item_at_more_locations_than_a_level_page_is_read_on() -> None:
    harness = shopify_sandbox(skus=3, locations=plan.LEVELS_CAP + 7)
    adapter = adapter_of(harness)
    found, _ = await discover_all(adapter)
    assert len(found) == 3 * (plan.LEVELS_CAP + 7)
    await adapter.aclose()


async def test_an_empty_shop_gives_one_empty_last_page() -> None:
    harness = shopify_sandbox(skus=0)
    adapter = adapter_of(harness)
    page = await adapter.discover(None)
    assert (page.listings, page.cursor) == ((), None)
    await adapter.aclose()


@pytest.mark.parametrize("status", [429, 502])
async def test_a_failed_page_raises_and_its_cursor_resumes_it(
    shop: tuple[ShopifySandbox, ShopifyAdapter], status: int
) -> None:
    harness, adapter = shop
    expected, _ = await discover_all(adapter)
    first = await adapter.discover(None)
    harness.faults.next_response(status=status, retry_after_s=1)
    with pytest.raises(TransientError):
        await adapter.discover(first.cursor)
    found = list(first.listings)
    fresh = adapter_of(harness)  # a restarted process: only the cursor is left
    cursor = first.cursor
    while cursor is not None:
        page = await fresh.discover(cursor)
        found.extend(page.listings)
        cursor = page.cursor
    assert found == expected
    await fresh.aclose()


async def test_discovery_is_paced_by_the_cost_bucket() -> None:
    harness = shopify_sandbox(skus=600, locations=2, restore_rate=50.0, bucket_size=1000.0)
    adapter = adapter_of(harness)
    start = harness.timer.monotonic()
    found, _ = await discover_all(adapter)
    assert len(found) == 1200
    # Each listing costs at least 3 points (level, location, quantity): 3600 points, of
    # which the bucket held 1000; the rest restores at 50 a second.
    assert harness.timer.monotonic() - start >= (3 * 1200 - 1000) / 50.0 * 0.9
    await adapter.aclose()


@pytest.mark.parametrize("cursor", ["garbage", "99/abc", "0/"])
async def test_a_cursor_it_did_not_issue_is_refused(
    shop: tuple[ShopifySandbox, ShopifyAdapter], cursor: str
) -> None:
    _, adapter = shop
    with pytest.raises(PermanentError, match="discovery cursor"):
        await adapter.discover(cursor)
