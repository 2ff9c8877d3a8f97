"""The Shopify sandbox's data: locations, inventory items and levels, orders, refunds.

Stock rules: an order takes `available` into `committed`; a cancellation or a refund with
restock gives it back. A set or adjust call is applied whole or not at all."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from omnistock.kit.sandbox.common.catalog import Catalog, CatalogItem
from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.truth import OrderLine

MAX_QUANTITY = 1_000_000_000


@dataclass(slots=True, kw_only=True)
class Location:
    id: int
    name: str


@dataclass(slots=True, kw_only=True)
class Level:
    available: int
    committed: int = 0
    updated_at: float


@dataclass(slots=True, kw_only=True)
class InventoryItem:
    id: int
    variant_id: int
    product_id: int
    sku: str
    title: str
    updated_at: float
    levels: dict[int, Level] = field(default_factory=dict)
    tracked: bool = True  # Shopify tracks the item's quantities (false: sells regardless)


@dataclass(slots=True, kw_only=True)
class OrderLineItem:
    id: int
    item_id: int
    variant_id: int
    sku: str
    title: str
    quantity: int
    restocked: int = 0


@dataclass(slots=True, kw_only=True)
class Refund:
    id: int
    created_at: float
    lines: list[tuple[OrderLineItem, int]]
    restock: bool


@dataclass(slots=True, kw_only=True)
class Order:
    id: int
    number: int
    location_id: int
    created_at: float
    updated_at: float
    lines: list[OrderLineItem]
    cancelled_at: float | None = None
    refunds: list[Refund] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelChange:
    """One quantity a set or adjust call writes: item, location, new `available`."""

    item_id: int
    location_id: int
    available: int


class StoreObserver(Protocol):
    def level_changed(self, item: InventoryItem, location_id: int, level: Level) -> None: ...
    def order_created(self, order: Order) -> None: ...
    def order_cancelled(self, order: Order) -> None: ...
    def refund_created(self, order: Order, refund: Refund) -> None: ...


class OutOfStockError(ValueError):
    """Checkout refused: the shop does not show enough stock."""


class ShopifyStore:
    """All sandbox data; numeric ids come from one sequence (GIDs are built from them)."""

    def __init__(self, clock: SandboxClock, catalog: Catalog) -> None:
        self._clock = clock
        self._ids = itertools.count(1001)
        self._numbers = itertools.count(1001)
        self.locations: dict[int, Location] = {}
        self.location_by_name: dict[str, int] = {}
        self.items: dict[int, InventoryItem] = {}
        self._by_sku: dict[str, InventoryItem] = {}  # lookups by SKU without a scan
        self.orders: dict[int, Order] = {}
        self.observers: list[StoreObserver] = []
        self.failing_writes: dict[int, int] = {}  # item id -> writes still to refuse
        for name in catalog.locations:
            self.add_location(name)
        for item in catalog.items:
            self.add_item(item)

    def now(self) -> float:
        return self._clock.now()

    def add_location(self, name: str) -> int:
        loc = Location(id=next(self._ids), name=name)
        self.locations[loc.id] = loc
        self.location_by_name[name] = loc.id
        return loc.id

    def add_item(self, source: CatalogItem) -> InventoryItem:
        """Stock a catalog SKU at its location (fires no webhook)."""
        now = self.now()
        item = InventoryItem(
            id=next(self._ids),
            variant_id=next(self._ids),
            product_id=next(self._ids),
            sku=source.sku,
            title=source.title,
            updated_at=now,
        )
        location = self.location_by_name.get(source.location) or self.add_location(source.location)
        item.levels[location] = Level(available=source.initial_quantity, updated_at=now)
        self.items[item.id] = item
        self._by_sku.setdefault(item.sku, item)
        return item

    def find_sku(self, sku: str) -> InventoryItem | None:
        return self._by_sku.get(sku)

    def reindex(self) -> None:
        """Rebuild the SKU index after SKUs changed (the first item of a SKU wins)."""
        self._by_sku = {}
        for item in self.items.values():
            self._by_sku.setdefault(item.sku, item)

    # --- writes ---

    def check_writable(self, item_id: int) -> bool:
        """False (and one use spent) while a write fault is armed for the item."""
        left = self.failing_writes.get(item_id, 0)
        if left > 0:
            self.failing_writes[item_id] = left - 1
            return False
        return True

    def apply(self, changes: Sequence[LevelChange]) -> None:
        """Write validated changes; each fires inventory_levels/update."""
        for change in changes:
            self.set_available(self.items[change.item_id], change.location_id, change.available)

    def set_available(self, item: InventoryItem, location_id: int, available: int) -> None:
        level = item.levels[location_id]
        level.available, level.updated_at = available, self.now()
        item.updated_at = level.updated_at
        for observer in self.observers:
            observer.level_changed(item, location_id, level)

    # --- the storefront (omnistock.kit.sandbox.common.shoppers.Shop) ---

    def shown(self) -> dict[str, int]:
        return {i.sku: sum(lv.available for lv in i.levels.values()) for i in self.items.values()}

    def shown_of(self, sku: str) -> int:
        item = self.find_sku(sku)
        return 0 if item is None else sum(lv.available for lv in item.levels.values())

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        picked = [(self._sku_item(line.sku), line.quantity) for line in lines]
        location = next(iter(picked[0][0].levels))
        for item, quantity in picked:
            if item.levels[location].available < quantity:
                raise OutOfStockError(f"not enough stock for {item.sku!r}")
        now = self.now()
        order = Order(
            id=next(self._ids),
            number=next(self._numbers),
            location_id=location,
            created_at=now,
            updated_at=now,
            lines=[self._line(item, quantity) for item, quantity in picked],
        )
        self.orders[order.id] = order
        for observer in self.observers:
            observer.order_created(order)
        for line in order.lines:
            self._move(line, order.location_id, -line.quantity)
        return str(order.id)

    def _sku_item(self, sku: str) -> InventoryItem:
        item = self.find_sku(sku)
        if item is None:
            raise ValueError(f"{sku!r} is not a purchasable SKU")
        return item

    def _line(self, item: InventoryItem, quantity: int) -> OrderLineItem:
        return OrderLineItem(
            id=next(self._ids),
            item_id=item.id,
            variant_id=item.variant_id,
            sku=item.sku,
            title=item.title,
            quantity=quantity,
        )

    def _move(self, line: OrderLineItem, location_id: int, units: int) -> None:
        """`units` < 0 commits stock to an order; > 0 gives committed stock back."""
        item = self.items[line.item_id]
        level = item.levels[location_id]
        level.committed -= units
        self.set_available(item, location_id, level.available + units)

    # --- order changes ---

    def cancel(self, order: Order, *, restock: bool) -> bool:
        """Cancel once (False if it already was); restocks what was not refunded."""
        if order.cancelled_at is not None:
            return False
        order.cancelled_at = order.updated_at = self.now()
        if restock:
            for line in order.lines:
                self._move(line, order.location_id, line.quantity - line.restocked)
                line.restocked = line.quantity
        for observer in self.observers:
            observer.order_cancelled(order)
        return True

    def refund(self, order: Order, lines: Sequence[tuple[int, int]], *, restock: bool) -> Refund:
        """Refund (line id, quantity) pairs; with restock the units go back on sale."""
        by_id = {line.id: line for line in order.lines}
        picked = [(by_id[line_id], quantity) for line_id, quantity in lines]
        refund = Refund(id=next(self._ids), created_at=self.now(), lines=picked, restock=restock)
        order.refunds.append(refund)
        order.updated_at = refund.created_at
        if restock:
            for line, quantity in picked:
                self._move(line, order.location_id, quantity)
                line.restocked += quantity
        for observer in self.observers:
            observer.refund_created(order, refund)
        return refund
