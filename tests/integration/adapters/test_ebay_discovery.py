"""eBay discovery against the sandbox: every inventory item, 200 a page (eBay's offset is a
page number), items without a published offer included, an empty account, a cursor that
resumes in another process, failures mid-run and the day's quota running out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx
import pytest

from omnistock.adapters.base import DiscoveredListing, DiscoversListings
from omnistock.adapters.ebay import EbayAdapter
from omnistock.adapters.ebay.discovery import PAGE_LIMIT
from omnistock.adapters.http import account_client
from omnistock.domain.errors import RateLimitedError, TransientError
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from omnistock.kit.sandbox.ebay import EbayConfig, EbaySandbox
from omnistock.kit.sandbox.ebay.notifications import SIGNATURE_HEADER
from tests.contract.test_adapter_ebay import ebay_adapter
from tests.integration.adapters.discovering import discover_all

LIST_CALL = "GET /sell/inventory/v1/inventory_item"


def ebay_account(
    skus: int, *, unpublished: int = 0, quotas: Mapping[str, int] | None = None
) -> EbaySandbox:
    config = EbayConfig(seed=4, skus=skus, unpublished_items=unpublished, quotas=quotas or {})
    return build_on_manual_clock(EbaySandbox, config, signature_header=SIGNATURE_HEADER, hang_s=1)


def connected(harness: EbaySandbox) -> EbayAdapter:
    """An adapter of the account, as a freshly started process builds it."""
    transport = httpx.ASGITransport(app=harness.app)
    return ebay_adapter(harness, account_client(harness.api_url(), transport=transport))


@pytest.fixture
async def account() -> AsyncIterator[tuple[EbayAdapter, EbaySandbox]]:
    harness = ebay_account(1_234, unpublished=6)
    async with harness.running():
        adapter = connected(harness)
        yield adapter, harness
        await adapter.aclose()


async def first_pages(
    adapter: EbayAdapter, pages: int
) -> tuple[list[DiscoveredListing], str | None]:
    """The listings of the first `pages` pages, and the cursor after them."""
    cursor: str | None = None
    found: list[DiscoveredListing] = []
    for _ in range(pages):
        page = await adapter.discover(cursor)
        found.extend(page.listings)
        cursor = page.cursor
    return found, cursor


def as_held(harness: EbaySandbox) -> list[tuple[str, int | None]]:
    return [(sku, item.quantity) for sku, item in sorted(harness.store.items.items())]


def as_found(found: list[DiscoveredListing]) -> list[tuple[str, int | None]]:
    return [(d.key, d.quantity) for d in found]


async def test_every_item_is_discovered_200_a_page(
    account: tuple[EbayAdapter, EbaySandbox],
) -> None:
    adapter, harness = account
    assert isinstance(adapter, DiscoversListings)
    found, pages = await discover_all(adapter)
    assert as_found(found) == as_held(harness)  # each once, quantities as eBay holds them
    assert pages == -(-1_240 // PAGE_LIMIT) == harness.core.calls.count(LIST_CALL)
    assert all(d.managed and d.sku == d.key for d in found)
    assert {dict(d.external_ids)["sku"] for d in found} == set(harness.store.items)
    drafts = [d for d in found if d.key.startswith("DRAFT-")]
    assert [d.title for d in drafts][:2] == ["Draft item 1", "Draft item 2"]
    assert len(drafts) == 6  # no offer published, still managed: a write sets their quantity
    assert not any(harness.store.listing_of(d.key) for d in drafts)


async def test_a_page_says_how_many_items_there_are(
    account: tuple[EbayAdapter, EbaySandbox],
) -> None:
    adapter, _ = account
    page = await adapter.discover(None)
    assert (len(page.listings), page.total) == (PAGE_LIMIT, 1_240)


async def test_an_empty_account_discovers_nothing() -> None:
    harness = ebay_account(0)
    async with harness.running():
        adapter = connected(harness)
        page = await adapter.discover(None)
        assert (page.listings, page.cursor, page.total) == ((), None, 0)
        await adapter.aclose()


async def test_a_saved_cursor_resumes_in_a_new_process(
    account: tuple[EbayAdapter, EbaySandbox],
) -> None:
    adapter, harness = account
    before, cursor = await first_pages(adapter, 3)
    restarted = connected(harness)
    after, _ = await discover_all(restarted, cursor)
    assert as_found(before + after) == as_held(harness)  # nothing twice, nothing lost
    assert harness.core.calls.count(LIST_CALL) == 7
    await restarted.aclose()


@pytest.mark.parametrize(
    ("status", "raised"), [(429, RateLimitedError), (500, TransientError), (503, TransientError)]
)
async def test_a_failure_mid_run_is_retried_from_the_same_cursor(
    account: tuple[EbayAdapter, EbaySandbox], status: int, raised: type[TransientError]
) -> None:
    adapter, harness = account
    first = await adapter.discover(None)
    harness.fail_next(status, retry_after=2)
    with pytest.raises(raised) as caught:
        await adapter.discover(first.cursor)
    assert caught.value.retry_after == 2
    rest, _ = await discover_all(adapter, first.cursor)
    assert as_found([*first.listings, *rest]) == as_held(harness)


async def test_the_days_quota_stops_discovery_until_the_reset() -> None:
    """Three Inventory calls a day: the fourth page is refused with the time to the reset,
    and discovery goes on from there the next day."""
    harness = ebay_account(1_000, quotas={"sell.inventory": 3})
    async with harness.running():
        adapter = connected(harness)
        found, cursor = await first_pages(adapter, 3)
        with pytest.raises(RateLimitedError) as caught:
            await adapter.discover(cursor)
        wait = caught.value.retry_after
        assert wait is not None
        assert 0 < wait <= 86_400
        await harness.timer.sleep(wait + 1)
        rest, _ = await discover_all(adapter, cursor)
        assert as_found(found + rest) == as_held(harness)
        await adapter.aclose()
