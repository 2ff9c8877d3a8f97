"""What only Amazon does: every write is ACCEPTED and shows later (by patch or by feed),
reads search 20 SKUs a call, orders come from Orders 2026-01-01 or, while the application
may not use it, from v0, and order notifications share a key with the polled orders.

The fidelity suite runs these too, recorded (tests/fidelity/amazon)."""

from __future__ import annotations

import httpx
import pytest

from omnistock.adapters.amazon import SIGNATURE_HEADER, AmazonSettings
from omnistock.adapters.amazon.adapter import V0_FALLBACK_S
from omnistock.adapters.base import ChannelEventType, ItemStatus, StockUpdate
from omnistock.adapters.registry import PLATFORMS
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import ChannelError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.amazon import AmazonConfig, AmazonSandbox
from omnistock.kit.sandbox.amazon.orders_api import VISIBILITY_LAG_S
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from tests.contract.adapter_suite import Pair, account_secrets, face_settings, updates_for
from tests.contract.test_adapter_amazon import (
    APPLY_DELAY_S,
    CONTRACT_FEED_FROM,
    AmazonPair,
    ConfirmedWrites,
    listing_ref,
)


class AmazonPeculiarities(AmazonPair):
    # Amazon-specific: the statuses themselves --------------------------------------------

    async def test_patches_are_accepted_and_show_only_after_the_delay(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(adapter, ConfirmedWrites)
        assert isinstance(harness, AmazonSandbox)
        updates = updates_for(await harness.seed(3, quantity=1), base=20)
        results = await adapter.inner.push(updates)
        assert [r.status for r in results] == [ItemStatus.ACCEPTED] * 3
        assert all(r.observed is None for r in results)
        store = harness.store
        assert [store.listings[str(u.ref.sku)].quantity for u in updates] == [1, 1, 1]
        await adapter.confirm({str(u.ref.sku): u.quantity for u in updates})

    async def test_feed_messages_are_accepted_then_applied(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(adapter, ConfirmedWrites)
        assert isinstance(harness, AmazonSandbox)
        updates = updates_for(await harness.seed(CONTRACT_FEED_FROM + 5), base=40)
        bad = updates[4].ref
        harness.fail_item_writes(bad)
        harness.reset_calls()
        results = await adapter.inner.push(updates)
        assert [c.items for c in harness.calls() if c.write] == [len(updates)]  # one feed
        assert results[4].status is ItemStatus.FAILED_RETRYABLE
        assert {r.status for i, r in enumerate(results) if i != 4} == {ItemStatus.ACCEPTED}
        await adapter.confirm({str(u.ref.sku): u.quantity for u in updates if u.ref != bad})

    def test_capabilities_ask_for_confirmation_after_the_apply_delay(self, pair: Pair) -> None:
        adapter, _ = pair
        assert adapter.capabilities.confirm_after_s == APPLY_DELAY_S

    # Amazon-specific: reads search 20 SKUs a call ----------------------------------------

    async def test_45_listings_are_read_by_3_searches_in_order(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        refs = await harness.seed(43)
        store = harness.store
        for n, ref in enumerate(refs):
            store.set_quantity(str(ref.sku), n)
        store.add_listing("CT-NO-OFFER", None)
        refs += [listing_ref("CT-NO-OFFER"), harness.unknown_listing()]
        harness.reset_calls()
        levels = await adapter.read([*refs, refs[0]])  # a ref named twice is searched once
        assert [lv.listing for lv in levels] == [r.listing for r in [*refs, refs[0]]]
        assert [lv.quantity for lv in levels] == [*range(43), None, None, 0]
        calls = harness.core.calls
        # getListingsItem per SKU took 45 calls; 20 SKUs a search take 3.
        assert (calls.count("searchListingsItems"), calls.count("getListingsItem")) == (3, 0)

    async def test_a_large_read_is_paced_to_the_search_bucket(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        refs = await harness.seed(200)
        harness.reset_calls()
        started = harness.timer.monotonic()
        assert [lv.quantity for lv in await adapter.read(refs)] == [5] * 200
        reads = [c for c in harness.core.calls.records() if c.operation != "lwa.token"]
        assert [(c.operation, c.status) for c in reads] == [("searchListingsItems", 200)] * 10
        # Burst 5, then 5/s: the last 5 calls take a second, and none is refused.
        assert harness.timer.monotonic() - started >= 1.0 - 1e-6

    async def test_a_search_answered_404_reads_none(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        refs = await harness.seed(2)
        await adapter.read(refs[:1])  # the LWA grant, so that the fault hits the search
        harness.fail_next(404)
        assert [lv.quantity for lv in await adapter.read(refs)] == [None, None]

    async def test_a_sku_with_a_comma_is_fetched_not_searched(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        harness.store.add_listing("CT,COMMA", 7)
        refs = [*await harness.seed(2), listing_ref("CT,COMMA"), listing_ref("CT,UNKNOWN")]
        harness.reset_calls()
        assert [lv.quantity for lv in await adapter.read(refs)] == [5, 5, 7, None]
        calls = harness.core.calls
        assert (calls.count("searchListingsItems"), calls.count("getListingsItem")) == (1, 2)

    # Amazon-specific: Orders 2026-01-01 first, v0 when the application may not use it ----

    async def test_orders_are_searched_with_their_items_inline(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        refs = await harness.seed(2, quantity=50)
        placed = await harness.place_orders(refs, 3, per_second=3)
        store = harness.store
        store.cancel(store.orders[placed[0]])
        harness.manual_clock.advance(VISIBILITY_LAG_S + 1)
        page = await adapter.poll_orders(None)
        kinds = {(e.order_id, e.kind) for e in page.events}
        assert {(o, ChannelEventType.ORDER_PLACED) for o in placed[1:]} <= kinds
        assert (placed[0], ChannelEventType.ORDER_CANCELLED) in kinds
        calls = harness.core.calls
        assert (calls.count("searchOrders"), calls.count("getOrders")) == (1, 0)
        assert calls.count("getOrderItems") == 0

    async def test_orders_fall_back_to_v0_while_search_is_refused(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        refs = await harness.seed(1, quantity=50)
        harness.orders_2026.enabled = False  # the application lacks the new API
        (first,) = await harness.place_orders(refs, 1, per_second=1)
        page = await adapter.poll_orders(None)
        assert [e.order_id for e in page.events] == [first]
        calls = harness.core.calls
        assert (calls.count("searchOrders"), calls.count("getOrders")) == (1, 1)
        (second,) = await harness.place_orders(refs, 1, per_second=1)
        page = await adapter.poll_orders(page.cursor)
        assert second in {e.order_id for e in page.events}
        assert (calls.count("searchOrders"), calls.count("getOrders")) == (1, 2)  # stuck to v0
        harness.orders_2026.enabled = True
        await harness.timer.sleep(V0_FALLBACK_S)
        (third,) = await harness.place_orders(refs, 1, per_second=1)
        page = await adapter.poll_orders(page.cursor)
        assert third in {e.order_id for e in page.events}
        assert (calls.count("searchOrders"), calls.count("getOrders")) == (2, 2)  # probed again

    async def test_duplicate_order_notifications_give_one_key(self, pair: Pair) -> None:
        adapter, harness = pair
        (ref,) = await harness.seed(1, quantity=5)
        await harness.subscribe_webhooks(["ORDER_CHANGE", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"])
        harness.duplicate_webhooks()
        (order_id,) = await harness.place_orders([ref], 1, per_second=1)
        deliveries = await harness.deliveries()
        found = [e for d in deliveries for e in adapter.parse_webhook(d.headers, d.body)]
        orders = [e for e in found if e.kind is ChannelEventType.ORDER_PLACED]
        quantities = [e for e in found if e.kind is ChannelEventType.QUANTITY_CHANGED]
        assert len(orders) == len(quantities) == 2  # each delivered twice
        assert {e.dedupe_key for e in orders} == {
            f"amazon:amazon-contract:order:{order_id}:order_placed"
        }
        (key,) = {e.dedupe_key for e in quantities}
        assert key.startswith("amazon:amazon-contract:notification:")
        polled = await adapter.poll_orders(None)
        assert {e.dedupe_key for e in polled.events} >= {e.dedupe_key for e in orders}


class TestAmazonInProcess(AmazonPeculiarities):
    transport = "asgi"


# The account's marketplace is a setting ------------------------------------------------------

GERMANY = "A1PA6795UKMFR9"


async def test_the_marketplace_setting_is_the_one_every_call_names() -> None:
    """A seller in Germany: the registry's adapter built from the account's settings reads and
    writes there; the same account read as a US one is refused by the marketplace."""
    config = AmazonConfig(seed=3, skus=0, marketplace_id=GERMANY)
    face = build_on_manual_clock(AmazonSandbox, config, signature_header=SIGNATURE_HEADER, hang_s=1)
    (ref,) = await face.seed(1, quantity=2)
    secrets = account_secrets(face)
    transport = httpx.ASGITransport(app=face.app)
    settings = face_settings(face)
    assert isinstance(settings, AmazonSettings)
    assert settings.marketplace_id == GERMANY
    german = PLATFORMS["amazon"].create_adapter(
        AccountId("amz-de"), settings, secrets, timer=face.timer, transport=transport
    )
    (result,) = await german.push([StockUpdate(ref=ref, quantity=6, sequence=1)])
    assert result.status is ItemStatus.ACCEPTED
    face.settle()
    assert [level.quantity for level in await german.read([ref])] == [6]
    us = PLATFORMS["amazon"].create_adapter(
        AccountId("amz-us"),
        AccountSettings(base_url=settings.base_url),  # no marketplace_id: the US default
        secrets,
        timer=face.timer,
        transport=transport,
    )
    with pytest.raises(ChannelError, match="HTTP 400"):
        await us.read([ref])
    await german.aclose()
    await us.aclose()
