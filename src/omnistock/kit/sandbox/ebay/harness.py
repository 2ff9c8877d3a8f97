"""An eBay sandbox on a manual clock plus the handles tests and benchmarks need: seed
listings, inject faults, read the call log, collect notifications, place orders.

It satisfies the harness protocol of `tests/contract/adapter_suite.py` (structurally)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import count

import httpx
from starlette.types import ASGIApp

from omnistock.adapters.base import ListingRef
from omnistock.domain.ids import ListingId, Sku
from omnistock.kit.sandbox.common.catalog import CatalogItem
from omnistock.kit.sandbox.common.clock import ManualClock, SandboxTimer
from omnistock.kit.sandbox.common.faults import FaultInjector
from omnistock.kit.sandbox.common.harness_faults import HarnessFaults
from omnistock.kit.sandbox.common.harness_records import Call, Delivery, WebhookReceiver
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.ebay.app import WRITE_OPERATIONS, EbayConfig, EbaySandbox
from omnistock.kit.sandbox.ebay.notifications import SIGNATURE_HEADER
from omnistock.kit.sandbox.ebay.oauth import ACCESS_TTL

HOOK_URL = "https://receiver.harness.test/ebay"
HARNESS_TOKEN = "harness-verification-token-0123456789abcdef"  # noqa: S105 - sandbox only
LISTING_ID = "listing_id"  # external ids, as the adapter reads them
VARIATION_ID = "variation_id"


class EbayHarness(HarnessFaults):
    """Owns an EbaySandbox on a ManualClock; notifications go to an in-memory receiver."""

    platform = "ebay"

    def __init__(
        self,
        *,
        seed: int = 1,
        skus: int = 0,
        hang_s: float = 1.0,
        quotas: Mapping[str, int] | None = None,
        write_hold_s: float = 0.0,
    ) -> None:
        self.clock = ManualClock()
        self.timer = SandboxTimer(self.clock)
        self._hang_s = hang_s
        self._receiver = WebhookReceiver(SIGNATURE_HEADER)
        self._hooks = httpx.AsyncClient(transport=httpx.MockTransport(self._receiver))
        config = EbayConfig(seed=seed, skus=skus, quotas=quotas or {}, write_hold_s=write_hold_s)
        self.sandbox = EbaySandbox(config, clock=self.clock, webhook_client=self._hooks)
        self._numbers = count(1)

    @property
    def app(self) -> ASGIApp:
        return self.sandbox.app

    def api_url(self, server_url: str | None = None) -> str:
        return (server_url or self.sandbox.base_url).rstrip("/")

    def credentials(self) -> Mapping[str, str]:
        return self.sandbox.credentials()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[EbayHarness]:
        try:
            async with self.sandbox.running():
                yield self
        finally:
            await self._hooks.aclose()

    # --- listings --------------------------------------------------------------------

    def ref_of(self, sku: str) -> ListingRef:
        store = self.sandbox.store
        ids = {LISTING_ID: store.listing_of(sku) or ""}
        variation = store.variation_of(sku)
        if variation is not None:
            ids[VARIATION_ID] = variation
        return ListingRef(listing=ListingId(f"ebay:{sku}"), sku=Sku(sku), external_ids=ids)

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """`count` published single-SKU listings, or one multi-variation listing (an
        inventory item group) of `count` variant SKUs."""
        number = next(self._numbers)
        skus = [f"CT-{number:04d}-{n:03d}" + ("-M" if variants else "") for n in range(count)]
        for sku in skus:
            spec = CatalogItem(
                sku=sku,
                title=sku,
                option="M" if variants else None,
                location="main",
                initial_quantity=quantity,
                price_cents=1000,
            )
            self.sandbox.store.add_item(spec, publish=not variants)
        if variants:
            self.sandbox.store.add_group(f"CT-GROUP-{number:04d}", f"Group {number}", skus)
        return [self.ref_of(sku) for sku in skus]

    def unknown_listing(self) -> ListingRef:
        return ListingRef(
            listing=ListingId("ebay:missing"),
            sku=Sku("CT-MISSING"),
            external_ids={LISTING_ID: "119999999999"},
        )

    async def shown(self, ref: ListingRef) -> int | None:
        return self.sandbox.store.shown_quantity(ref.sku)

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """The seller edits the quantity in Seller Hub (eBay notifies no one of it)."""
        item = self.sandbox.store.items.get(ref.sku)
        if item is None:
            raise KeyError(f"no sandbox item for {ref.listing}")
        self.sandbox.store.set_quantity(item, quantity, {})

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this SKU come back with per-item error 25001 (a
        system error, HTTP 500 inside a 207): eBay's retryable per-item failure."""
        self.sandbox.store.failing_writes[ref.sku] = times

    # --- faults and the call log -------------------------------------------------------

    def _faults(self) -> FaultInjector:
        return self.sandbox.faults

    def calls(self) -> list[Call]:
        return [
            Call(c.operation in WRITE_OPERATIONS, c.items, c.status, c.faulted)
            for c in self.sandbox.core.calls.records()
        ]

    def reset_calls(self) -> None:
        self.sandbox.core.calls.clear()

    def expire_token(self) -> bool:
        """Let a user token's two hours pass on the platform clock."""
        self.clock.advance(ACCESS_TTL)
        return True

    # --- notifications and orders ------------------------------------------------------

    async def subscribe_webhooks(self, topics: Sequence[str] = ("ORDER_CONFIRMATION",)) -> None:
        """A destination (challenge taken as answered) and a subscription per topic."""
        self.sandbox.notifications.register(HOOK_URL, HARNESS_TOKEN, topics)

    async def deliveries(self) -> list[Delivery]:
        await self.sandbox.notifications.sender.wait_idle()
        got, self._receiver.received = self._receiver.received, []
        return got

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        ids = []
        for n in range(count):
            if n and n % per_second == 0:
                self.clock.advance(1)
            line = OrderLine(sku=refs[n % len(refs)].sku, quantity=1)
            ids.append(self.sandbox.store.place_order([line]))
            self.sandbox.core.truth.accept([line])
        self.clock.advance(1)
        return ids

    def cancel_order(self, order_id: str) -> None:
        """The buyer cancels (quantities come back; lastModifiedDate moves)."""
        self.sandbox.store.cancel(self.sandbox.store.orders[order_id])
