"""An Amazon sandbox on a manual clock plus the handles tests need: seed listings, faults,
the call log, notifications caught in memory, orders. It satisfies the harness protocol of
`tests/contract/adapter_suite.py` (structurally).

Amazon applies writes later; `shown` and `deliveries` first let that time pass."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import count

import httpx
from starlette.types import ASGIApp

from omnistock.adapters.base import ListingRef
from omnistock.domain.ids import ListingId, Sku
from omnistock.kit.sandbox.amazon.app import WRITE_OPERATIONS, AmazonConfig, AmazonSandbox
from omnistock.kit.sandbox.amazon.auth import TOKEN_TTL
from omnistock.kit.sandbox.amazon.notifications import SIGNATURE_HEADER
from omnistock.kit.sandbox.amazon.orders_api import VISIBILITY_LAG_S
from omnistock.kit.sandbox.common.clock import ManualClock, SandboxTimer
from omnistock.kit.sandbox.common.faults import FaultInjector
from omnistock.kit.sandbox.common.harness_faults import HarnessFaults
from omnistock.kit.sandbox.common.harness_records import Call, Delivery, WebhookReceiver
from omnistock.kit.sandbox.common.truth import OrderLine

RECEIVER_URL = "https://bridge.harness.test/amazon"


class AmazonHarness(HarnessFaults):
    """Owns an AmazonSandbox on a ManualClock; the bridge posts to an in-memory receiver."""

    platform = "amazon"

    def __init__(self, *, seed: int = 1, hang_s: float = 1.0, apply_delay_s: float = 5.0) -> None:
        self.clock = ManualClock()
        self.timer = SandboxTimer(self.clock)
        self._hang_s = hang_s
        self._receiver = WebhookReceiver(SIGNATURE_HEADER)
        self._client = httpx.AsyncClient(transport=httpx.MockTransport(self._receiver))
        config = AmazonConfig(seed=seed, skus=0, apply_delay_s=apply_delay_s)
        self.sandbox = AmazonSandbox(config, clock=self.clock, notification_client=self._client)
        self._numbers = count(1)

    @property
    def app(self) -> ASGIApp:
        return self.sandbox.app

    def api_url(self, server_url: str | None = None) -> str:
        return (server_url or self.sandbox.base_url).rstrip("/")

    def credentials(self) -> Mapping[str, str]:
        return self.sandbox.credentials()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[AmazonHarness]:
        try:
            async with self.sandbox.running():
                yield self
        finally:
            await self._client.aclose()

    def settle(self) -> None:
        """Let Amazon apply what it accepted (its eventual consistency delay passes)."""
        due = self.sandbox.store.next_due()
        if due is not None and due > self.clock.now():
            self.clock.advance(due - self.clock.now())
        self.sandbox.store.catch_up()
        if self.sandbox.store.next_due() is not None and self.sandbox.store.next_due() != due:
            self.settle()

    # --- listings ------------------------------------------------------------------------

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """Add `count` MFN listings (Amazon lists each variation as its own SKU)."""
        refs = []
        for _ in range(count):
            sku = f"CT-{next(self._numbers):06d}" + ("-M" if variants else "")
            listing = self.sandbox.store.add_listing(sku, quantity, title=sku)
            refs.append(self._ref(sku, listing.asin))
        return refs

    def _ref(self, sku: str, asin: str) -> ListingRef:
        return ListingRef(
            listing=ListingId(f"amazon:{sku}"),
            sku=Sku(sku),
            external_ids={"sku": sku, "asin": asin},
        )

    def unknown_listing(self) -> ListingRef:
        return self._ref("CT-MISSING", "B0MISSING0")

    async def shown(self, ref: ListingRef) -> int | None:
        self.settle()
        listing = self.sandbox.store.listings.get(ref.external_ids["sku"])
        return None if listing is None else listing.quantity

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """The merchant edits the quantity in Seller Central (applied at once)."""
        self.settle()
        self.sandbox.store.set_quantity(ref.external_ids["sku"], quantity)

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this SKU come back with an internal-failure issue."""
        self.sandbox.store.failing_writes[ref.external_ids["sku"]] = times

    # --- faults and the call log ---------------------------------------------------------

    def _faults(self) -> FaultInjector:
        return self.sandbox.faults

    def calls(self) -> list[Call]:
        return [
            Call(c.operation in WRITE_OPERATIONS and c.items > 0, c.items, c.status, c.faulted)
            for c in self.sandbox.core.calls.records()
        ]

    def reset_calls(self) -> None:
        self.sandbox.core.calls.clear()

    def expire_token(self) -> bool:
        """Let an LWA token's hour pass on the platform clock."""
        self.clock.advance(TOKEN_TTL)
        return True

    # --- notifications and orders --------------------------------------------------------

    async def subscribe_webhooks(
        self, topics: Sequence[str] = ("LISTINGS_ITEM_MFN_QUANTITY_CHANGE",)
    ) -> None:
        for topic in topics:
            self.sandbox.notifications.subscribe(topic, RECEIVER_URL)

    async def deliveries(self) -> list[Delivery]:
        self.settle()
        await self.sandbox.notifications.idle()
        got, self._receiver.received = self._receiver.received, []
        return got

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        """Orders placed `per_second`; then the time passes that getOrders keeps hidden."""
        ids = []
        for n in range(count):
            if n and n % per_second == 0:
                self.clock.advance(1)
            line = OrderLine(sku=refs[n % len(refs)].sku, quantity=1)
            ids.append(self.sandbox.store.place_order([line]))
        self.clock.advance(VISIBILITY_LAG_S + 1)
        return ids
