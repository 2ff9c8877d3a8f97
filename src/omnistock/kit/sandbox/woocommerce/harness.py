"""A WooCommerce sandbox on a manual clock plus the handles tests and benchmarks need:
seed listings, inject faults, read the call log, collect webhooks, place orders.

It satisfies the harness protocol of `tests/contract/adapter_suite.py` (structurally)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

import httpx
from starlette.types import ASGIApp

from omnistock.adapters.base import ListingRef
from omnistock.domain.ids import ListingId, Sku
from omnistock.kit.sandbox.common.catalog import CatalogItem, CatalogProduct
from omnistock.kit.sandbox.common.clock import ManualClock, SandboxTimer
from omnistock.kit.sandbox.common.faults import FaultInjector
from omnistock.kit.sandbox.common.harness_faults import HarnessFaults
from omnistock.kit.sandbox.common.harness_records import Call, Delivery, WebhookReceiver
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.woocommerce.app import WRITE_OPERATIONS, WooConfig, WooSandbox
from omnistock.kit.sandbox.woocommerce.store import Item

API_PATH = "/wp-json/wc/v3/"
SIGNATURE_HEADER = "x-wc-webhook-signature"
HOOK_URL = "https://receiver.harness.test/woo"
_OPTIONS = ("S", "M", "L", "XL", "XXL")


class WooHarness(HarnessFaults):
    """Owns a WooSandbox on a ManualClock; webhooks go to an in-memory receiver."""

    platform = "woocommerce"

    def __init__(
        self, *, webhook_secret: str, seed: int = 1, skus: int = 0, hang_s: float = 1.0
    ) -> None:
        self.clock = ManualClock()
        self.timer = SandboxTimer(self.clock)
        self._secret = webhook_secret
        self._hang_s = hang_s
        self._receiver = WebhookReceiver(SIGNATURE_HEADER)
        self._hooks = httpx.AsyncClient(transport=httpx.MockTransport(self._receiver))
        config = WooConfig(seed=seed, skus=skus, variant_share=0.0)
        self.sandbox = WooSandbox(config, clock=self.clock, webhook_client=self._hooks)
        self._numbers = itertools.count(1)

    @property
    def app(self) -> ASGIApp:
        return self.sandbox.app

    def api_url(self, server_url: str | None = None) -> str:
        """The API root for the adapter, on `server_url` when served, else the sandbox's."""
        return (server_url or self.sandbox.base_url).rstrip("/") + API_PATH

    def credentials(self) -> Mapping[str, str]:
        return self.sandbox.credentials()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[WooHarness]:
        """Run webhook delivery while the block runs, then close the receiver's client."""
        try:
            async with self.sandbox.running():
                yield self
        finally:
            await self._hooks.aclose()

    # --- listings --------------------------------------------------------------------

    def catalog_refs(self) -> list[ListingRef]:
        """Refs for every simple product the sandbox started with (the bench uses them)."""
        products = self.sandbox.store.products.values()
        return [_ref(p.sku, p.id, None) for p in products if p.type == "simple"]

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """Add `count` sellable listings (simple products, or variations five to a parent)."""
        refs: list[ListingRef] = []
        while len(refs) < count:
            size = min(len(_OPTIONS), count - len(refs)) if variants else 1
            refs.extend(self._add(size, quantity, variable=variants))
        return refs

    def _add(self, size: int, quantity: int, *, variable: bool) -> list[ListingRef]:
        sku = f"CT-{next(self._numbers):06d}"
        options = _OPTIONS[:size] if variable else (None,)
        items = tuple(
            CatalogItem(
                sku=f"{sku}-{opt}" if opt else sku,
                title=sku,
                option=opt,
                location="main",
                initial_quantity=quantity,
                price_cents=1000,
            )
            for opt in options
        )
        store = self.sandbox.store
        pid = store.add_product(CatalogProduct(sku=sku, title=sku, variable=variable, items=items))
        if not variable:
            return [_ref(sku, pid, None)]
        return [_ref(store.variations[v].sku, pid, v) for v in store.products[pid].variation_ids]

    def unknown_listing(self) -> ListingRef:
        return _ref("CT-MISSING", 9_999_999, None)

    async def shown(self, ref: ListingRef) -> int | None:
        """The quantity the sandbox holds for `ref` (None: missing or not managed)."""
        item = self._item(ref)
        holder = None if item is None else self.sandbox.store.stock_holder(item)
        return None if holder is None else holder.stock_quantity

    def _item(self, ref: ListingRef) -> Item | None:
        store, ids = self.sandbox.store, ref.external_ids
        if "variation_id" in ids:
            return store.variations.get(int(ids["variation_id"]))
        return store.products.get(int(ids["product_id"]))

    def _existing(self, ref: ListingRef) -> Item:
        item = self._item(ref)
        if item is None:
            raise KeyError(f"no sandbox item for {ref.listing}")
        return item

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """A merchant edits the stock in wp-admin: a save that fires product.updated."""
        item = self._existing(ref)
        item.manage_stock, item.stock_quantity = True, quantity
        self.sandbox.store.touch(item)

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this one item fail with a database error."""
        item = self._existing(ref)
        self.sandbox.store.failing_writes[item.id] = times

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
        """WooCommerce keys do not expire: there is no token to expire."""
        return False

    # --- webhooks and orders ---------------------------------------------------------

    async def subscribe_webhooks(self, topics: Sequence[str] = ("product.updated",)) -> None:
        for topic in topics:
            self.sandbox.webhooks.create(
                name=topic, topic=topic, url=HOOK_URL, secret=self._secret, status="active"
            )

    async def deliveries(self) -> list[Delivery]:
        """Every webhook delivered since the last call, once delivery has gone idle."""
        await self.sandbox.webhooks.sender.wait_idle()
        got, self._receiver.received = self._receiver.received, []
        return got

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        """Paid checkouts of one unit each, `per_second` of them in each platform second."""
        ids = []
        for n in range(count):
            if n and n % per_second == 0:
                self.clock.advance(1)
            line = OrderLine(sku=refs[n % len(refs)].sku, quantity=1)
            ids.append(self.sandbox.store.place_order([line]))
        self.clock.advance(1)
        return ids


def _ref(sku: str, product_id: int, variation_id: int | None) -> ListingRef:
    ids = {"product_id": str(product_id)}
    if variation_id is not None:
        ids["variation_id"] = str(variation_id)
    listing = ListingId(f"woo:{variation_id or product_id}")
    return ListingRef(listing=listing, sku=Sku(sku), external_ids=ids)
