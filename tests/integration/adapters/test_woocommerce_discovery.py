"""WooCommerce discovery against its sandbox, in process: every product and variation, the
site's pagination, unmanaged and parent-managed stock, shared SKUs, a failing page resumed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.adapters.base import DiscoveredListing
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import PRODUCT_ID, VARIATION_ID, WooCommerceAdapter
from omnistock.domain.errors import PermanentError, TransientError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.kit.sandbox.woocommerce.app import WooConfig
from omnistock.kit.sandbox.woocommerce.face import SIGNATURE_HEADER
from tests.integration.adapters.discovering import discover_all


def woo_sandbox(**config: object) -> WooSandbox:
    return build_on_manual_clock(
        WooSandbox,
        WooConfig(webhook_secret="s", **config),  # type: ignore[arg-type]  # noqa: S106
        signature_header=SIGNATURE_HEADER,
        hang_s=0.01,
    )


def woo_adapter(harness: WooSandbox) -> WooCommerceAdapter:
    creds = harness.credentials()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    return WooCommerceAdapter(
        AccountId("woo"),
        client,
        consumer_key=Secret(creds["consumer_key"]),
        consumer_secret=Secret(creds["consumer_secret"]),
        webhook_secret=Secret("s"),
        timer=harness.timer,
    )


@pytest.fixture
async def shop() -> AsyncIterator[tuple[WooSandbox, WooCommerceAdapter]]:
    harness = woo_sandbox(
        skus=450,
        variant_share=0.4,
        mix=ListingMix(unmanaged_share=0.1, duplicate_skus=3),
        parent_stock_share=0.2,
    )
    adapter = woo_adapter(harness)
    yield harness, adapter
    await adapter.aclose()


async def test_every_product_and_variation_is_discovered_once(
    shop: tuple[WooSandbox, WooCommerceAdapter],
) -> None:
    harness, adapter = shop
    found, calls = await discover_all(adapter)
    store = harness.store
    assert len({x.key for x in found}) == len(found)
    assert len(found) == len(store.products) + len(store.variations)
    products = (len(store.products) + 99) // 100
    variable = [p for p in store.products.values() if p.type == "variable"]
    assert calls == products + len(variable)
    operations = [c.operation for c in harness.core.calls.records()]
    assert operations.count("products.list") == products
    assert operations.count("variations.list") == len(variable)


async def test_listings_carry_the_ids_stock_and_skus_the_site_has(
    shop: tuple[WooSandbox, WooCommerceAdapter],
) -> None:
    harness, adapter = shop
    found, _ = await discover_all(adapter)
    store = harness.store
    for listing in found:
        if VARIATION_ID in listing.external_ids:
            item = store.variations[int(listing.external_ids[VARIATION_ID])]
            assert listing.key == f"{item.parent_id}:{item.id}"
            assert listing.external_ids[PRODUCT_ID] == str(item.parent_id)
        else:
            item = store.products[int(listing.external_ids[PRODUCT_ID])]  # type: ignore[assignment]
            assert listing.key == str(item.id)
        assert listing.sku == (item.sku or None)
        assert listing.managed is item.manage_stock
        assert listing.quantity == (item.stock_quantity if item.manage_stock else None)
    unmanaged = [x for x in found if not x.managed]
    assert unmanaged, "the mix makes some listings unmanaged"
    skus = [x.sku for x in found if x.sku]
    assert len(skus) - len(set(skus)) == 3


async def test_a_variation_whose_parent_holds_the_stock_is_unmanaged(
    shop: tuple[WooSandbox, WooCommerceAdapter],
) -> None:
    harness, adapter = shop
    found = {x.key: x for x in (await discover_all(adapter))[0]}
    parents = [
        p for p in harness.store.products.values() if p.type == "variable" and p.manage_stock
    ]
    assert parents
    for parent in parents:
        assert found[str(parent.id)].managed
        assert found[str(parent.id)].quantity == parent.stock_quantity
        for vid in parent.variation_ids:
            assert not found[f"{parent.id}:{vid}"].managed
            assert found[f"{parent.id}:{vid}"].quantity is None


async def test_the_total_counts_products_and_the_variations_seen() -> None:
    harness = woo_sandbox(skus=30, variant_share=0.0)
    adapter = woo_adapter(harness)
    page = await adapter.discover(None)
    assert page.total == 30
    assert page.cursor is None
    await adapter.aclose()


async def test_an_empty_site_gives_one_empty_last_page() -> None:
    harness = woo_sandbox(skus=0)
    adapter = woo_adapter(harness)
    page = await adapter.discover(None)
    assert (page.listings, page.cursor, page.total) == ((), None, 0)
    await adapter.aclose()


@pytest.mark.parametrize("status", [429, 503, 500])
async def test_a_failed_page_raises_and_its_cursor_resumes_it(
    shop: tuple[WooSandbox, WooCommerceAdapter], status: int
) -> None:
    harness, adapter = shop
    expected, _ = await discover_all(adapter)
    first = await adapter.discover(None)
    second = await adapter.discover(first.cursor)
    harness.faults.next_response(status=status, retry_after_s=1)
    with pytest.raises(TransientError):
        await adapter.discover(second.cursor)
    rest: list[DiscoveredListing] = [*first.listings, *second.listings]
    cursor = second.cursor
    while cursor is not None:
        page = await adapter.discover(cursor)
        rest.extend(page.listings)
        cursor = page.cursor
    assert rest == expected


async def test_a_cursor_survives_a_new_adapter(
    shop: tuple[WooSandbox, WooCommerceAdapter],
) -> None:
    harness, adapter = shop
    expected, _ = await discover_all(adapter)
    first = await adapter.discover(None)
    fresh = woo_adapter(harness)  # as after a restart: only the saved cursor is left
    second = await fresh.discover(first.cursor)
    assert second.listings == tuple(expected[len(first.listings) :][: len(second.listings)])
    await fresh.aclose()


@pytest.mark.parametrize("cursor", ["garbage", "eyJ2IjoyfQ=="])
async def test_a_cursor_it_did_not_issue_is_refused(
    shop: tuple[WooSandbox, WooCommerceAdapter], cursor: str
) -> None:
    _, adapter = shop
    with pytest.raises(PermanentError, match="discovery cursor"):
        await adapter.discover(cursor)
