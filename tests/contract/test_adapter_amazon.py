"""Amazon passes the adapter contract against its sandbox, in-process (ASGI); plus its
registry entry, honest cancellation, both write paths (patch and feed) and reads by search.

Amazon never answers "applied": every write is ACCEPTED and shows later. The shared suite
expects SUCCEEDED, so the pair hands it `ConfirmedWrites`, which does what the dispatcher
does with ACCEPTED (wait `confirm_after_s`, then check the level) and reports SUCCEEDED
only for writes the sandbox then shows; the tests below assert ACCEPTED directly."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence

import httpx
import pytest

from omnistock.adapters.amazon import AmazonAdapter, wire
from omnistock.adapters.amazon.adapter import V0_FALLBACK_S
from omnistock.adapters.amazon.wire import lwa_url
from omnistock.adapters.base import (
    Capabilities,
    ChannelEvent,
    ChannelEventType,
    ItemResult,
    ItemStatus,
    ListingRef,
    ObservedLevel,
    OrderPage,
    StockUpdate,
)
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.kit.sandbox.amazon import AmazonSandbox
from omnistock.kit.sandbox.amazon.orders_api import VISIBILITY_LAG_S
from tests.contract.adapter_suite import (
    AdapterContract,
    Pair,
    TransportKind,
    open_transport,
    updates_for,
)

# Low enough that the suite's larger pushes (120+ listings) go by feed, its small ones by
# patch, so both write paths pass the contract; production derives it from the real limits.
CONTRACT_FEED_FROM = 100
APPLY_DELAY_S = 5.0  # the harness's (and the sandbox's default) ACCEPTED → applied delay


def amazon_adapter(
    harness: AmazonSandbox,
    client: httpx.AsyncClient,
    base_url: str,
    *,
    bulk_feed_from: int = CONTRACT_FEED_FROM,
) -> AmazonAdapter:
    creds = harness.credentials()
    return AmazonAdapter(
        AccountId("amazon-contract"),
        client,
        seller_id=creds["seller_id"],
        marketplace_id=creds["marketplace_id"],
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        refresh_token=Secret(creds["refresh_token"]),
        notification_secret=Secret(creds["notification_secret"]),
        timer=harness.timer,
        lwa_url=lwa_url(base_url),
        bulk_feed_from=bulk_feed_from,
        confirm_after_s=APPLY_DELAY_S,
    )


def listing_ref(sku: str) -> ListingRef:
    """A listing the test adds to the store itself, addressed like the harness's."""
    return ListingRef(listing=ListingId(f"amazon:{sku}"), sku=Sku(sku), external_ids={"sku": sku})


class ConfirmedWrites:
    """The adapter with the dispatcher's confirmation of ACCEPTED writes folded into push:
    after `confirm_after_s` on the platform clock each accepted SKU must show its last
    pushed quantity (else the test fails), and is then reported SUCCEEDED."""

    def __init__(self, inner: AmazonAdapter, harness: AmazonSandbox) -> None:
        self.inner = inner
        self._harness = harness

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        results = await self.inner.push(updates)
        assert ItemStatus.SUCCEEDED not in {r.status for r in results}  # Amazon never says so
        accepted = {
            wire.seller_sku(u.ref): u.quantity
            for u, r in zip(updates, results, strict=True)
            if r.status is ItemStatus.ACCEPTED
        }
        if accepted:
            await self.confirm(accepted)
        return [
            dataclasses.replace(r, status=ItemStatus.SUCCEEDED)
            if r.status is ItemStatus.ACCEPTED
            else r
            for r in results
        ]

    async def confirm(self, accepted: Mapping[str, int]) -> None:
        delay = self.capabilities.confirm_after_s
        assert delay is not None
        await self._harness.timer.sleep(delay)
        store = self._harness.store
        store.catch_up()  # what any API call would do first
        shown = {sku: store.listings[sku].quantity for sku in accepted}
        assert shown == dict(accepted), "an ACCEPTED write did not show after confirm_after_s"

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        return await self.inner.read(refs)

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        return await self.inner.poll_orders(cursor)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        return self.inner.parse_webhook(headers, body)

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        return await self.inner.cancel_order(order_id, reason)

    def is_echo(self, event: ChannelEvent) -> bool:
        return self.inner.is_echo(event)

    async def aclose(self) -> None:
        await self.inner.aclose()


class AmazonContract(AdapterContract):
    transport: TransportKind = "asgi"

    @pytest.fixture
    async def pair(self) -> AsyncIterator[Pair]:
        harness = AmazonSandbox.on_manual_clock(apply_delay_s=APPLY_DELAY_S)
        async with harness.running(), open_transport(harness.app, self.transport) as conn:
            base_url = harness.api_url(conn.server_url)
            transport = self.wrap(conn.transport)
            client = account_client(base_url, transport=transport, timeout=conn.timeout)
            adapter = ConfirmedWrites(amazon_adapter(harness, client, base_url), harness)
            yield adapter, harness
            await adapter.aclose()

    def wrap(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport | None:
        """Subclasses may wrap the transport (tests/fidelity records every exchange)."""
        return transport

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


class TestAmazonInProcess(AmazonContract):
    transport = "asgi"
