"""The query root the sandbox resolves: inventoryItems, inventoryItem, productVariants,
locations and orders, with Shopify's search syntax, sort keys and keyset cursors."""

from __future__ import annotations

from typing import Any

from omnistock.kit.sandbox.shopify.representation import (
    Obj,
    QueryError,
    Term,
    Views,
    connection,
    matches,
    parse_gid,
    parse_search,
)
from omnistock.kit.sandbox.shopify.store import InventoryItem, Order, ShopifyStore

_ORDER_KEYS = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at", "ID": "id"}


class QueryRoot:
    """Resolver functions for the fields of QueryRoot that inventory sync uses."""

    def __init__(self, store: ShopifyStore, views: Views) -> None:
        self._store = store
        self._views = views

    def root(self) -> Obj:
        return {
            "inventoryItems": self.inventory_items,
            "inventoryItem": self.inventory_item,
            "productVariants": self.product_variants,
            "locations": self.locations,
            "orders": self.orders,
        }

    def _items(self, query: str | None) -> list[InventoryItem]:
        terms = parse_search(query)
        if not terms:
            return sorted(self._store.items.values(), key=lambda i: i.id)
        direct = self._looked_up(terms)
        if direct is not None:
            return sorted(direct, key=lambda i: i.id)
        found = [i for i in self._store.items.values() if matches(terms, _item_fields(i))]
        return sorted(found, key=lambda i: i.id)

    def _looked_up(self, terms: list[Term]) -> list[InventoryItem] | None:
        """`id:1 OR id:2` or `sku:A OR sku:B` answered from the indexes (a reconciliation
        asks for hundreds at a time); None for any other query (scanned)."""
        fields = {t.field for t in terms}
        if len(fields) != 1 or fields - {"id", "sku"} or any(t.op != ":" for t in terms):
            return None
        if fields == {"sku"}:
            found = (self._store.find_sku(t.value) for t in terms)
        else:
            found = (
                self._store.items.get(int(t.value)) if t.value.isdigit() else None for t in terms
            )
        unique = {item.id: item for item in found if item is not None}
        return list(unique.values())

    def inventory_items(
        self,
        _info: object,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
        **_: Any,
    ) -> Obj:
        items = self._items(query)
        return connection(
            items, lambda i: i.id, self._views.inventory_item, first=first, after=after
        )

    def inventory_item(self, _info: object, id: str) -> Obj | None:
        number = parse_gid(id, "InventoryItem")
        item = self._store.items.get(number) if number is not None else None
        return None if item is None else self._views.inventory_item(item)

    def product_variants(
        self,
        _info: object,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
        **_: Any,
    ) -> Obj:
        items = sorted(self._items(query), key=lambda i: i.variant_id)
        return connection(
            items, lambda i: i.variant_id, self._views.variant, first=first, after=after
        )

    def locations(
        self, _info: object, first: int | None = None, after: str | None = None, **_: Any
    ) -> Obj:
        ids = sorted(self._store.locations)
        return connection(ids, lambda i: i, self._views.location, first=first, after=after)

    def orders(
        self,
        _info: object,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
        sortKey: str = "ID",  # noqa: N803 - the GraphQL argument name
        reverse: bool = False,
        **_: Any,
    ) -> Obj:
        attr = _ORDER_KEYS.get(sortKey)
        if attr is None:
            raise QueryError(f"sortKey {sortKey} is not supported by this sandbox")
        terms = parse_search(query)
        found = [o for o in self._store.orders.values() if matches(terms, _order_fields(o))]

        def key(order: Order) -> tuple[float, int]:
            return (getattr(order, attr), order.id)

        found.sort(key=key, reverse=reverse)
        if reverse:
            raise QueryError("reverse is not supported by this sandbox")
        return connection(
            found, lambda o: list(key(o)), self._views.order, first=first, after=after
        )


def _item_fields(item: InventoryItem) -> dict[str, object]:
    return {"id": item.id, "sku": item.sku, "updated_at": item.updated_at}


def _order_fields(order: Order) -> dict[str, object]:
    return {
        "id": order.id,
        "updated_at": order.updated_at,
        "created_at": order.created_at,
        "status": "cancelled" if order.cancelled_at else "open",
    }
