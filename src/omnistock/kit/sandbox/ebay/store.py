"""The eBay seller's state: inventory items (quantity per merchantLocationKey), offers and
their listings, inventory item groups, orders, and the per-listing daily revision count."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from zoneinfo import ZoneInfo

from omnistock.kit.sandbox.common.catalog import Catalog, CatalogItem
from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.truth import OrderLine

REVISIONS_PER_DAY = 250
PACIFIC = ZoneInfo("America/Los_Angeles")  # eBay's day (quotas, revisions) ⚠️
MARKETPLACE = "EBAY_US"


def unpublished_item(n: int) -> CatalogItem:
    """The n-th inventory item a seller created without publishing an offer for it."""
    return CatalogItem(
        sku=f"DRAFT-{n:06d}",
        title=f"Draft item {n}",
        option=None,
        location="main",
        initial_quantity=3,
        price_cents=1_000,
    )


class OutOfStockError(ValueError):
    """Checkout refused: the listing does not show that many."""


def pacific_day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).astimezone(PACIFIC).date().isoformat()


@dataclass(slots=True, kw_only=True)
class InventoryItem:
    sku: str
    locale: str
    condition: str | None
    product: dict[str, object]
    quantity: int | None  # shipToLocationAvailability.quantity; None: no availability
    distributions: dict[str, int]  # merchantLocationKey -> quantity
    group_keys: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Offer:
    offer_id: str
    sku: str
    listing_id: str | None  # set when published
    available_quantity: int | None  # overrides the item's quantity for this listing
    price: dict[str, str]
    marketplace_id: str = MARKETPLACE
    format: str = "FIXED_PRICE"


@dataclass(slots=True, kw_only=True)
class ItemGroup:
    key: str
    title: str
    variant_skus: list[str]
    varies_by: dict[str, object]
    listing_id: str | None = None


@dataclass(slots=True, kw_only=True)
class Line:
    line_id: str
    sku: str
    quantity: int
    legacy_item_id: str
    legacy_variation_id: str | None


@dataclass(slots=True, kw_only=True)
class Order:
    order_id: str
    created: float
    modified: float
    lines: list[Line]
    cancelled: bool = False


OrderObserver = Callable[[Order], None]


class EbayStore:
    """Everything the Inventory and Fulfillment APIs read and write; synchronous."""

    def __init__(self, clock: SandboxClock, catalog: Catalog) -> None:
        self.clock = clock
        self.items: dict[str, InventoryItem] = {}
        self.offers: dict[str, Offer] = {}
        self._offers_by_sku: dict[str, list[Offer]] = {}  # an index of `offers`
        self.groups: dict[str, ItemGroup] = {}
        self.orders: dict[str, Order] = {}
        self.revisions: dict[str, tuple[str, int]] = {}  # listing -> (day, count)
        self.writing: set[str] = set()  # SKUs with a write in progress (for 25025)
        self.failing_writes: dict[str, int] = {}  # SKU -> writes to answer with 25001
        self.order_observers: list[OrderObserver] = []
        self._ids = count(1)
        self._listings = count(110_000_000_001)
        self._lines = count(10_000_000_001)
        for product in catalog.products:
            self._add_product(product.sku, product.title, product.variable, product.items)

    # --- catalog ----------------------------------------------------------------------

    def _add_product(
        self, key: str, title: str, variable: bool, items: Sequence[CatalogItem]
    ) -> None:
        for item in items:
            self.add_item(item, publish=not variable)
        if variable:
            self.add_group(key, title, [i.sku for i in items])

    def add_item(self, spec: CatalogItem, *, publish: bool = True) -> InventoryItem:
        item = InventoryItem(
            sku=spec.sku,
            locale="en_US",
            condition="NEW",
            # No `aspects` until the seller sets some: an empty `{}` broke the official
            # InventoryItems schema (which types aspects as a string, see README).
            product={"title": spec.title},
            quantity=spec.initial_quantity,
            distributions={spec.location: spec.initial_quantity},
        )
        self.items[item.sku] = item
        offer = Offer(
            offer_id=str(next(self._ids) + 5_000_000_000),
            sku=item.sku,
            listing_id=str(next(self._listings)) if publish else None,
            available_quantity=None,
            price={"value": f"{spec.price_cents / 100:.2f}", "currency": "USD"},
        )
        self.offers[offer.offer_id] = offer
        self._offers_by_sku.setdefault(item.sku, []).append(offer)
        return item

    def add_group(self, key: str, title: str, skus: Sequence[str]) -> ItemGroup:
        """A multi-variation listing: the group is published as one listing."""
        group = ItemGroup(
            key=key,
            title=title,
            variant_skus=list(skus),
            varies_by={"specifications": [{"name": "Size", "values": list(skus)}]},
            listing_id=str(next(self._listings)),
        )
        self.groups[key] = group
        for sku in skus:
            self.items[sku].group_keys.append(key)
            for offer in self.offers_of(sku):
                offer.listing_id = group.listing_id
        return group

    def offers_of(self, sku: str) -> list[Offer]:
        return list(self._offers_by_sku.get(sku, ()))

    def listing_of(self, sku: str) -> str | None:
        return next((o.listing_id for o in self.offers_of(sku) if o.listing_id), None)

    def variation_of(self, sku: str) -> str | None:
        """Orders name a variation of a multi-variation listing by a legacy id."""
        item = self.items.get(sku)
        if item is None or not item.group_keys:
            return None
        digest = hashlib.sha256(f"{item.group_keys[0]}/{sku}".encode()).hexdigest()
        return str(int(digest[:12], 16) % 10**12)

    # --- quantities -------------------------------------------------------------------

    def shown_quantity(self, sku: str) -> int | None:
        """What a buyer can buy: the offer's availableQuantity, else the item's."""
        item = self.items.get(sku)
        if item is None:
            return None
        published = [o for o in self.offers_of(sku) if o.listing_id is not None]
        override = next((o.available_quantity for o in published if o.available_quantity), None)
        return override if override is not None else (item.quantity or 0)

    def set_quantity(
        self, item: InventoryItem, quantity: int, by_location: Mapping[str, int]
    ) -> None:
        """Set ship-to-home quantity; without a split the first location takes it all. ⚠️"""
        item.quantity = quantity
        if by_location:
            item.distributions = dict(by_location)
        else:
            first = next(iter(item.distributions), "default")
            item.distributions = {first: quantity}
        for offer in self.offers_of(item.sku):
            offer.available_quantity = None  # a new item quantity replaces overrides ⚠️

    def revise(self, sku: str) -> bool:
        """Count one revision of the SKU's listing today; False when the limit is reached."""
        listing = self.listing_of(sku)
        if listing is None:
            return True  # unpublished: no listing to revise
        today = pacific_day(self.clock.now())
        day, used = self.revisions.get(listing, (today, 0))
        used = used if day == today else 0
        if used >= REVISIONS_PER_DAY:
            return False
        self.revisions[listing] = (today, used + 1)
        return True

    # --- the Shop protocol ------------------------------------------------------------

    def shown(self) -> dict[str, int]:
        return {
            sku: qty
            for sku in self.items
            if self.listing_of(sku) and (qty := self.shown_quantity(sku) or 0) > 0
        }

    def shown_of(self, sku: str) -> int:
        return (self.shown_quantity(sku) or 0) if self.listing_of(sku) else 0

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        for line in lines:
            if (self.shown_quantity(line.sku) or 0) < line.quantity or not self.listing_of(
                line.sku
            ):
                raise OutOfStockError(f"{line.sku}: not enough on the listing")
        now = self.clock.now()
        order = Order(
            order_id=f"{next(self._ids):02d}-{int(now) % 100_000:05d}-{next(self._ids):05d}",
            created=now,
            modified=now,
            lines=[self._line(line) for line in lines],
        )
        for line in lines:
            self._draw(line.sku, line.quantity)
        self.orders[order.order_id] = order
        for observe in self.order_observers:
            observe(order)
        return order.order_id

    def cancel(self, order: Order) -> bool:
        """Cancel and restore the quantities; False if it already was."""
        if order.cancelled:
            return False
        order.cancelled = True
        order.modified = self.clock.now()
        for line in order.lines:
            self._draw(line.sku, -line.quantity)
        return True

    def _line(self, line: OrderLine) -> Line:
        return Line(
            line_id=str(next(self._lines)),
            sku=line.sku,
            quantity=line.quantity,
            legacy_item_id=self.listing_of(line.sku) or "",
            legacy_variation_id=self.variation_of(line.sku),
        )

    def _draw(self, sku: str, quantity: int) -> None:
        item = self.items[sku]
        for offer in self.offers_of(sku):
            if offer.available_quantity is not None:
                offer.available_quantity -= quantity
        item.quantity = (item.quantity or 0) - quantity
        first = next(iter(item.distributions), "default")
        item.distributions[first] = item.distributions.get(first, 0) - quantity
