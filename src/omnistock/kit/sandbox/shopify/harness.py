"""A Shopify sandbox on a manual clock plus the handles tests and benchmarks need: seed
listings, inject faults, read the call log, collect webhooks, place orders.

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
from omnistock.kit.sandbox.shopify.app import ShopifyConfig, ShopifySandbox
from omnistock.kit.sandbox.shopify.hooks import TOPICS
from omnistock.kit.sandbox.shopify.oauth import CLIENT_CREDENTIALS_TTL
from omnistock.kit.sandbox.shopify.store import InventoryItem

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
HOOK_URL = "https://receiver.harness.test/shopify"


class ShopifyHarness(HarnessFaults):
    """Owns a ShopifySandbox on a ManualClock; webhooks go to an in-memory receiver."""

    platform = "shopify"

    def __init__(
        self,
        *,
        seed: int = 1,
        skus: int = 0,
        hang_s: float = 1.0,
        restore_rate: float = 100.0,
        bucket_size: float = 2000.0,
    ) -> None:
        self.clock = ManualClock()
        self.timer = SandboxTimer(self.clock)
        self._hang_s = hang_s
        self._receiver = WebhookReceiver(SIGNATURE_HEADER)
        self._hooks = httpx.AsyncClient(transport=httpx.MockTransport(self._receiver))
        config = ShopifyConfig(
            seed=seed, skus=skus, restore_rate=restore_rate, bucket_size=bucket_size
        )
        self.sandbox = ShopifySandbox(config, clock=self.clock, webhook_client=self._hooks)
        self._numbers = count(1)
        self.location_id = self.sandbox.store.location_by_name["main"]

    @property
    def app(self) -> ASGIApp:
        return self.sandbox.app

    def shop_url(self, server_url: str | None = None) -> str:
        return (server_url or self.sandbox.base_url).rstrip("/")

    def credentials(self) -> Mapping[str, str]:
        return self.sandbox.credentials()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ShopifyHarness]:
        try:
            async with self.sandbox.running():
                yield self
        finally:
            await self._hooks.aclose()

    # --- listings --------------------------------------------------------------------

    def catalog_refs(self) -> list[ListingRef]:
        return [self.ref_of(item) for item in self.sandbox.store.items.values()]

    def ref_of(self, item: InventoryItem) -> ListingRef:
        location = next(iter(item.levels))
        return ListingRef(
            listing=ListingId(f"shopify:{item.id}"),
            sku=Sku(item.sku),
            external_ids={"inventory_item_id": str(item.id), "location_id": str(location)},
        )

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """Add `count` variants (every Shopify listing is a variant; `variants` only names
        them as options of a product)."""
        refs = []
        for _ in range(count):
            sku = f"CT-{next(self._numbers):06d}" + ("-M" if variants else "")
            item = self.sandbox.store.add_item(
                CatalogItem(
                    sku=sku,
                    title=sku,
                    option="M" if variants else None,
                    location="main",
                    initial_quantity=quantity,
                    price_cents=1000,
                )
            )
            refs.append(self.ref_of(item))
        return refs

    def unknown_listing(self) -> ListingRef:
        return ListingRef(
            listing=ListingId("shopify:missing"),
            sku=Sku("CT-MISSING"),
            external_ids={"inventory_item_id": "9999999", "location_id": str(self.location_id)},
        )

    def _item(self, ref: ListingRef) -> InventoryItem | None:
        return self.sandbox.store.items.get(int(ref.external_ids["inventory_item_id"]))

    async def shown(self, ref: ListingRef) -> int | None:
        item = self._item(ref)
        level = None if item is None else item.levels.get(int(ref.external_ids["location_id"]))
        return None if level is None else level.available

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """A merchant edits the level in the admin (fires inventory_levels/update)."""
        item = self._item(ref)
        if item is None:
            raise KeyError(f"no sandbox item for {ref.listing}")
        self.sandbox.store.set_available(item, int(ref.external_ids["location_id"]), quantity)

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this item race another writer and come back
        CHANGE_FROM_QUANTITY_STALE (Shopify's per-item failure that a retry fixes)."""
        self.sandbox.store.failing_writes[int(ref.external_ids["inventory_item_id"])] = times

    # --- faults and the call log -------------------------------------------------------

    def _faults(self) -> FaultInjector:
        return self.sandbox.faults

    def calls(self) -> list[Call]:
        return [
            Call(c.operation == "graphql" and c.items > 0, c.items, c.status, c.faulted)
            for c in self.sandbox.core.calls.records()
        ]

    def reset_calls(self) -> None:
        self.sandbox.core.calls.clear()

    def expire_token(self) -> bool:
        """Let a client-credentials token's lifetime pass on the platform clock."""
        self.clock.advance(CLIENT_CREDENTIALS_TTL)
        return True

    # --- webhooks and orders ---------------------------------------------------------

    async def subscribe_webhooks(
        self, topics: Sequence[str] = ("inventory_levels/update",)
    ) -> None:
        for topic in topics:
            self.sandbox.webhooks.subscribe(topic, HOOK_URL)

    def subscribe_all(self) -> None:
        for topic in TOPICS:
            self.sandbox.webhooks.subscribe(topic, HOOK_URL)

    async def deliveries(self) -> list[Delivery]:
        await self.sandbox.webhooks.sender.wait_idle()
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
        self.clock.advance(1)
        return ids
