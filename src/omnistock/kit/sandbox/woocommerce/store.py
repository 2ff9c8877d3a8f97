"""The WooCommerce sandbox's data: products, variations, orders and their stock rules.

Stock rules follow core `wc-stock-functions.php`: reduce once on payment, restore on cancel.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from omnistock.kit.sandbox.common.catalog import Catalog, CatalogItem, CatalogProduct
from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.truth import OrderLine

ProductType = Literal["simple", "variable"]
REDUCING_STATUSES = frozenset({"processing", "completed", "on-hold"})
RESTORING_STATUSES = frozenset({"cancelled", "pending"})
ORDER_STATUSES = frozenset(
    {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"}
)


@dataclass(slots=True, kw_only=True)
class WooProduct:
    id: int
    sku: str
    name: str
    type: ProductType
    regular_price: str
    manage_stock: bool
    stock_quantity: int | None
    created: int
    modified: int
    backorders: str = "no"
    stock_status: str = "instock"
    variation_ids: list[int] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class WooVariation:
    id: int
    parent_id: int
    sku: str
    option: str
    regular_price: str
    manage_stock: bool
    stock_quantity: int | None
    created: int
    modified: int
    backorders: str = "no"
    stock_status: str = "instock"


Item = WooProduct | WooVariation


@dataclass(slots=True, kw_only=True)
class WooLineItem:
    id: int
    name: str
    product_id: int
    variation_id: int
    sku: str
    quantity: int
    price: str


@dataclass(slots=True, kw_only=True)
class WooOrder:
    id: int
    status: str
    created: int
    modified: int
    line_items: list[WooLineItem]
    stock_reduced: bool = False


class StoreObserver(Protocol):
    """Told about every save, as WordPress hooks are; the webhook topics listen here."""

    def product_saved(self, item: Item) -> None: ...

    def order_saved(self, order: WooOrder, *, created: bool) -> None: ...


class WriteFailedError(Exception):
    """wp_update_post failed for one item ("Could not update post in the database")."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"could not update {item_id}")
        self.item_id = item_id


class OutOfStockError(ValueError):
    """Checkout refused: the channel does not show enough stock."""


def derive_stock_status(manage: bool, quantity: int | None, backorders: str, stored: str) -> str:
    """Pure: WooCommerce recomputes the status from the quantity when it manages stock."""
    if not manage:
        return stored
    if (quantity or 0) > 0:
        return "instock"
    return "outofstock" if backorders == "no" else "onbackorder"


class WooStore:
    """All sandbox data; ids come from one sequence, like WordPress's shared posts table."""

    def __init__(self, clock: SandboxClock, catalog: Catalog) -> None:
        self._clock = clock
        self._ids = itertools.count(10)
        self._line_ids = itertools.count(1)
        self.products: dict[int, WooProduct] = {}
        self.variations: dict[int, WooVariation] = {}
        self.orders: dict[int, WooOrder] = {}
        self.observers: list[StoreObserver] = []
        # item id -> writes still to refuse: a per-item database failure, for fault tests.
        self.failing_writes: dict[int, int] = {}
        self._by_sku: dict[str, Item] = {}
        for product in catalog.products:
            self.add_product(product)

    def now(self) -> int:
        # WordPress stores post dates at one-second resolution.
        return int(self._clock.now())

    def add_product(self, source: CatalogProduct) -> int:
        """Create a product (and its variations) from a catalog entry; returns its id.
        Harnesses use it to grow the catalog after start-up; it fires no webhook."""
        now, pid = self.now(), next(self._ids)
        simple = not source.variable
        first = source.items[0]
        self.products[pid] = WooProduct(
            id=pid,
            sku=source.sku,
            name=source.title,
            type="simple" if simple else "variable",
            regular_price=_price(first),
            manage_stock=simple,
            stock_quantity=first.initial_quantity if simple else None,
            created=now,
            modified=now,
        )
        if not simple:
            for item in source.items:
                self._seed_variation(self.products[pid], item)
        self._refresh(self.products[pid])
        return pid

    def _seed_variation(self, parent: WooProduct, item: CatalogItem) -> None:
        now, vid = self.now(), next(self._ids)
        self.variations[vid] = WooVariation(
            id=vid,
            parent_id=parent.id,
            sku=item.sku,
            option=item.option or "",
            created=now,
            regular_price=_price(item),
            manage_stock=True,
            stock_quantity=item.initial_quantity,
            modified=now,
        )
        parent.variation_ids.append(vid)
        self._refresh(self.variations[vid])

    def find_sku(self, sku: str) -> Item | None:
        """The product (first) or variation with this SKU. From an index rebuilt when it
        misses or is out of date (the API can change a SKU): lookups are per order."""
        item = self._by_sku.get(sku)
        if item is not None and item.sku == sku:
            return item
        index: dict[str, Item] = {}
        for product in self.products.values():
            if product.sku:
                index.setdefault(product.sku, product)
        for variation in self.variations.values():
            if variation.sku:
                index.setdefault(variation.sku, variation)
        self._by_sku = index
        return index.get(sku)

    def stock_holder(self, item: Item) -> Item | None:
        """Where the stock of `item` is counted: itself, its parent ("parent"), or nowhere."""
        if item.manage_stock:
            return item
        if isinstance(item, WooVariation) and self.products[item.parent_id].manage_stock:
            return self.products[item.parent_id]
        return None

    def manage_stock_view(self, item: Item) -> bool | str:
        holder = self.stock_holder(item)
        return "parent" if holder is not None and holder is not item else item.manage_stock

    def check_writable(self, item: Item) -> None:
        """Raise WriteFailedError while a write fault is armed for `item` (and use one up)."""
        left = self.failing_writes.get(item.id, 0)
        if left > 0:
            self.failing_writes[item.id] = left - 1
            raise WriteFailedError(item.id)

    def touch(self, item: Item) -> None:
        """Recompute derived fields after a write and tell the observers (a product save)."""
        item.modified = self.now()
        self._refresh(item)
        for observer in self.observers:
            observer.product_saved(item)

    def touch_quietly(self, item: Item) -> None:
        """Recompute derived fields after a change made while seeding (no observer told)."""
        self._refresh(item)

    def _refresh(self, item: Item) -> None:
        item.stock_status = derive_stock_status(
            item.manage_stock, item.stock_quantity, item.backorders, item.stock_status
        )
        if isinstance(item, WooVariation):
            self._refresh_parent(self.products[item.parent_id])

    def _refresh_parent(self, parent: WooProduct) -> None:
        # A variable product that does not manage stock takes its status from its children.
        if parent.manage_stock or not parent.variation_ids:
            return
        statuses = {self.variations[v].stock_status for v in parent.variation_ids}
        parent.stock_status = next(
            (s for s in ("instock", "onbackorder") if s in statuses), "outofstock"
        )

    def sellable(self) -> Iterable[Item]:
        simple = (p for p in self.products.values() if p.type == "simple")
        return itertools.chain(simple, self.variations.values())

    # --- the storefront (omnistock.kit.sandbox.common.shoppers.Shop) ---

    def shown(self) -> dict[str, int]:
        shown: dict[str, int] = {}
        for item in self.sellable():
            holder = self.stock_holder(item)
            if holder is not None and holder.stock_status == "instock":
                shown[item.sku] = holder.stock_quantity or 0
        return shown

    def shown_of(self, sku: str) -> int:
        item = self.find_sku(sku)
        holder = None if item is None else self.stock_holder(item)
        if holder is None or holder.stock_status != "instock":
            return 0
        return holder.stock_quantity or 0

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        items = [self._line_item(line) for line in lines]
        self._check_stock(items)
        now = self.now()
        order = WooOrder(
            id=next(self._ids), status="processing", created=now, modified=now, line_items=items
        )
        self.orders[order.id] = order
        self._saved(order, created=True)
        self._adjust_stock(order, -1)
        return str(order.id)

    def _line_item(self, line: OrderLine) -> WooLineItem:
        item = self.find_sku(line.sku)
        if item is None or (isinstance(item, WooProduct) and item.type == "variable"):
            raise ValueError(f"{line.sku!r} is not a purchasable SKU")
        variation = isinstance(item, WooVariation)
        product_id = item.parent_id if isinstance(item, WooVariation) else item.id
        return WooLineItem(
            id=next(self._line_ids),
            name=self._title(item),
            product_id=product_id,
            variation_id=item.id if variation else 0,
            sku=item.sku,
            quantity=line.quantity,
            price=item.regular_price,
        )

    def _title(self, item: Item) -> str:
        if isinstance(item, WooVariation):
            return f"{self.products[item.parent_id].name} - {item.option}"
        return item.name

    def _check_stock(self, items: Sequence[WooLineItem]) -> None:
        for line in items:
            holder = self.stock_holder(self._resolve(line))
            if holder is None or holder.backorders != "no":
                continue
            if (holder.stock_quantity or 0) < line.quantity:
                raise OutOfStockError(f"not enough stock for {line.sku!r}")

    def _resolve(self, line: WooLineItem) -> Item:
        if line.variation_id:
            return self.variations[line.variation_id]
        return self.products[line.product_id]

    # --- orders ---

    def set_order_status(self, order: WooOrder, status: str) -> None:
        """Change status; stock is reduced or restored at most once per direction."""
        if status in REDUCING_STATUSES and not order.stock_reduced:
            self._adjust_stock(order, -1)
        elif status in RESTORING_STATUSES and order.stock_reduced:
            self._adjust_stock(order, +1)
        order.status = status
        self._saved(order, created=False)

    def _adjust_stock(self, order: WooOrder, sign: int) -> None:
        for line in order.line_items:
            holder = self.stock_holder(self._resolve(line))
            if holder is not None:
                holder.stock_quantity = (holder.stock_quantity or 0) + sign * line.quantity
                self.touch(holder)
        order.stock_reduced = sign < 0

    def _saved(self, order: WooOrder, *, created: bool) -> None:
        order.modified = self.now()
        for observer in self.observers:
            observer.order_saved(order, created=created)


def _price(item: CatalogItem) -> str:
    return f"{item.price_cents / 100:.2f}"
