"""The Amazon sandbox's data: MFN listings, accepted submissions waiting to apply, feeds and
orders. Time moves lazily: `catch_up(now)` applies everything due, oldest first."""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from omnistock.kit.sandbox.common.catalog import Catalog
from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.truth import OrderLine

MAX_QUANTITY = 1_000_000_000


@dataclass(slots=True, kw_only=True)
class Listing:
    sku: str
    asin: str
    product_type: str
    title: str
    quantity: int | None
    created: float
    updated: float
    # DEFAULT: merchant-fulfilled (MFN); AMAZON_NA (or _EU, _FE): fulfilled by Amazon, whose
    # quantity Amazon keeps (`quantity` None: the seller has no MFN offer to set).
    fulfillment_channel: str = "DEFAULT"


@dataclass(slots=True, kw_only=True)
class OrderItem:
    item_id: str
    sku: str
    asin: str
    quantity: int


@dataclass(slots=True, kw_only=True)
class Order:
    id: str
    created: float
    updated: float
    status: str
    items: list[OrderItem]


class StoreObserver(Protocol):
    def quantity_changed(self, listing: Listing) -> None: ...
    def order_changed(self, order: Order) -> None: ...


Change = Callable[[], None]


@dataclass(order=True, slots=True)
class _Due:
    at: float
    seq: int
    apply: Change = field(compare=False)


class AmazonStore:
    """What a seller's MFN catalogue and orders look like to the API."""

    def __init__(self, clock: SandboxClock, catalog: Catalog, seller_id: str) -> None:
        self.clock = clock
        self.seller_id = seller_id
        self.listings: dict[str, Listing] = {}
        self.orders: dict[str, Order] = {}
        self.observers: list[StoreObserver] = []
        self.failing_writes: dict[str, int] = {}  # SKU → writes still to fail
        self._due: list[_Due] = []
        self._seq = itertools.count(1)
        self._order_numbers = itertools.count(1)
        for item in catalog.items:
            self.add_listing(item.sku, item.initial_quantity, title=item.title)

    # --- listings ------------------------------------------------------------------------

    def add_listing(
        self,
        sku: str,
        quantity: int | None,
        *,
        title: str = "",
        product_type: str = "PRODUCT",
        fulfillment_channel: str = "DEFAULT",
    ) -> Listing:
        now = self.clock.now()
        digest = hashlib.sha1(sku.encode(), usedforsecurity=False).hexdigest()
        asin = "B0" + digest[:8].upper()
        listing = Listing(
            sku=sku,
            asin=asin,
            product_type=product_type,
            title=title or sku,
            quantity=quantity,
            created=now,
            updated=now,
            fulfillment_channel=fulfillment_channel,
        )
        self.listings[sku] = listing
        return listing

    def set_quantity(self, sku: str, quantity: int) -> None:
        """Apply a quantity now (a merchant edit, or a submission coming due)."""
        listing = self.listings.get(sku)
        if listing is None or listing.quantity == quantity:
            return
        listing.quantity = quantity
        listing.updated = self.clock.now()
        for observer in self.observers:
            observer.quantity_changed(listing)

    def remove(self, sku: str) -> None:
        self.listings.pop(sku, None)

    def take_failure(self, sku: str) -> bool:
        """Whether this write of `sku` is one the harness asked to fail."""
        left = self.failing_writes.get(sku, 0)
        if left <= 0:
            return False
        self.failing_writes[sku] = left - 1
        return True

    # --- eventual consistency ------------------------------------------------------------

    def later(self, delay_s: float, change: Change) -> None:
        heapq.heappush(self._due, _Due(self.clock.now() + delay_s, next(self._seq), change))

    def catch_up(self) -> None:
        now = self.clock.now()
        while self._due and self._due[0].at <= now:
            heapq.heappop(self._due).apply()

    def next_due(self) -> float | None:
        return self._due[0].at if self._due else None

    # --- orders (the Shop protocol) ------------------------------------------------------

    def shown(self) -> dict[str, int]:
        self.catch_up()  # shoppers see what Amazon has applied by now
        return {s: lst.quantity for s, lst in self.listings.items() if lst.quantity}

    def shown_of(self, sku: str) -> int:
        self.catch_up()
        listing = self.listings.get(sku)
        return (listing.quantity or 0) if listing is not None else 0

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        """A paid MFN order: Amazon takes the units off the listing at once."""
        self.catch_up()
        for line in lines:
            listing = self.listings.get(line.sku)
            if listing is None or (listing.quantity or 0) < line.quantity:
                raise ValueError(f"{line.sku}: not enough quantity for {line.quantity}")
        now = self.clock.now()
        n = next(self._order_numbers)
        order_id = f"{111 + n % 800:03d}-{n:07d}-{(n * 7919) % 10**7:07d}"
        items = [
            OrderItem(
                item_id=f"{n:08d}{i:06d}",
                sku=line.sku,
                asin=self.listings[line.sku].asin,
                quantity=line.quantity,
            )
            for i, line in enumerate(lines, start=1)
        ]
        order = Order(id=order_id, created=now, updated=now, status="Unshipped", items=items)
        self.orders[order_id] = order
        for line in lines:
            self.set_quantity(line.sku, (self.listings[line.sku].quantity or 0) - line.quantity)
        self._order_changed(order)
        return order_id

    def cancel(self, order: Order) -> None:
        """A cancellation gives the units back to the listing."""
        if order.status == "Canceled":
            return
        order.status = "Canceled"
        order.updated = self.clock.now()
        for item in order.items:
            listing = self.listings.get(item.sku)
            if listing is not None:
                self.set_quantity(item.sku, (listing.quantity or 0) + item.quantity)
        self._order_changed(order)

    def _order_changed(self, order: Order) -> None:
        for observer in self.observers:
            observer.order_changed(order)
