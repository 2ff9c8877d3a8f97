"""How the sandbox's data looks through GraphQL: GIDs, objects as resolver dicts, cursor
connections and the search syntax of `query:` arguments. Pure apart from reading the store.

graphql-core's default resolver reads dict keys and calls callables with the field's
arguments, so objects are dicts whose argument-taking fields are functions."""

from __future__ import annotations

import base64
import bisect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from omnistock.kit.sandbox.shopify.store import InventoryItem, Order, ShopifyStore

Obj = dict[str, Any]
T = TypeVar("T")
MAX_PAGE = 250


class QueryError(ValueError):
    """An argument Shopify refuses at execution (it becomes a GraphQL error)."""


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: object, kind: str) -> int | None:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def iso(unix: float) -> str:
    return (
        datetime.fromtimestamp(unix, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- search syntax --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    field: str
    op: str  # ":", ":>", ":<", ":>=", ":<="
    value: str


_TERM = re.compile(r"(\w+):(>=|<=|>|<)?('[^']*'|\"[^\"]*\"|\S+)")


def parse_search(query: str | None) -> list[Term]:
    """`sku:A OR sku:B`, `id:1 OR id:2`, `updated_at:>'2026-01-01T00:00:00Z'` as terms
    (alternatives of one field are OR-ed; different fields are AND-ed)."""
    terms = []
    for field, op, raw in _TERM.findall(query or ""):
        terms.append(Term(field, ":" + op, raw.strip("'\"")))
    return terms


def matches(terms: Sequence[Term], values: dict[str, object]) -> bool:
    fields = {t.field for t in terms}
    return all(any(_match(t, values) for t in terms if t.field == f) for f in fields)


def _match(term: Term, values: dict[str, object]) -> bool:
    value = values.get(term.field)
    if isinstance(value, float):
        other = parse_iso(term.value)
        return {
            ":": value == other,
            ":>": value > other,
            ":<": value < other,
            ":>=": value >= other,
            ":<=": value <= other,
        }[term.op]
    return str(value) == term.value


# --- connections ----------------------------------------------------------------------


def encode_cursor(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as exc:
        raise QueryError(f"Invalid cursor for current pagination sort.{cursor!r}") from exc


def connection(
    items: Sequence[T],
    key: Callable[[T], Any],
    render: Callable[[T], Obj],
    *,
    first: int | None,
    after: str | None,
) -> Obj:
    """A page of `items` (already in key order) after the keyset cursor `after`."""
    if first is None:
        raise QueryError("you must provide one of first or last")
    if not 0 <= first <= MAX_PAGE:
        raise QueryError(f"first must be between 0 and {MAX_PAGE}")
    start = decode_cursor(after) if after else None
    # Keyset: the first item past the cursor, found by bisection (shops hold 100,000s).
    begin = 0 if start is None else bisect.bisect_right(items, _tupled(start), key=_keyed(key))
    page = items[begin : begin + first]
    edges = [{"cursor": encode_cursor(key(i)), "node": render(i)} for i in page]
    return {
        "edges": edges,
        "nodes": [e["node"] for e in edges],
        "pageInfo": {
            "hasNextPage": len(items) > begin + first,
            "hasPreviousPage": start is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _keyed(key: Callable[[T], Any]) -> Callable[[T], Any]:
    return lambda item: _tupled(key(item))


def _tupled(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# --- objects --------------------------------------------------------------------------


class Views:
    """Builds the resolver dicts of the store's objects."""

    def __init__(self, store: ShopifyStore) -> None:
        self._store = store

    def location(self, location_id: int) -> Obj:
        loc = self._store.locations[location_id]
        return {
            "id": gid("Location", loc.id),
            "legacyResourceId": str(loc.id),
            "name": loc.name,
            "isActive": True,
        }

    def inventory_item(self, item: InventoryItem) -> Obj:
        def inventory_level(_info: object, locationId: str) -> Obj | None:  # noqa: N803
            return self.inventory_level(item, parse_gid(locationId, "Location"))

        return {
            "id": gid("InventoryItem", item.id),
            "legacyResourceId": str(item.id),
            "sku": item.sku,
            "tracked": item.tracked,
            "updatedAt": iso(item.updated_at),
            "inventoryLevel": inventory_level,
            "inventoryLevels": self._levels(item),
            "variant": lambda _info: self.variant(item),
        }

    def variant(self, item: InventoryItem) -> Obj:
        return {
            "id": gid("ProductVariant", item.variant_id),
            "legacyResourceId": str(item.variant_id),
            "sku": item.sku,
            "title": item.title,
            "displayName": item.title,
            "inventoryQuantity": sum(lv.available for lv in item.levels.values()),
            "updatedAt": iso(item.updated_at),
            "inventoryItem": lambda _info: self.inventory_item(item),
        }

    def _levels(self, item: InventoryItem) -> Callable[..., Obj]:
        """The item's levels, by location id (the locations it is stocked at)."""

        def page(
            _info: object, first: int | None = None, after: str | None = None, **_: object
        ) -> Obj:
            ids = sorted(item.levels)
            return connection(
                ids,
                lambda i: i,
                lambda i: self.inventory_level(item, i) or {},
                first=first,
                after=after,
            )

        return page

    def inventory_level(self, item: InventoryItem, location_id: int | None) -> Obj | None:
        level = item.levels.get(location_id) if location_id is not None else None
        if level is None or location_id is None:
            return None
        quantities = {
            "available": level.available,
            "committed": level.committed,
            "on_hand": level.available + level.committed,
        }

        def pick(_info: object, names: list[str]) -> list[Obj]:
            return [
                {
                    "id": gid("InventoryQuantity", item.id) + f"?name={n}",
                    "name": n,
                    "quantity": quantities.get(n, 0),
                    "updatedAt": iso(level.updated_at),
                }
                for n in names
            ]

        return {
            "id": f"{gid('InventoryLevel', location_id)}?inventory_item_id={item.id}",
            "quantities": pick,
            "updatedAt": iso(level.updated_at),
            "item": lambda _info: self.inventory_item(item),
            "location": lambda _info: self.location(location_id),
        }

    def order(self, order: Order) -> Obj:
        lines = [self._line(order, n) for n in range(len(order.lines))]
        fulfillment = [
            {
                "id": gid("FulfillmentOrder", order.id),
                "assignedLocation": {"location": self.location(order.location_id)},
            }
        ]
        return {
            "id": gid("Order", order.id),
            "legacyResourceId": str(order.id),
            "name": f"#{order.number}",
            "createdAt": iso(order.created_at),
            "updatedAt": iso(order.updated_at),
            "cancelledAt": None if order.cancelled_at is None else iso(order.cancelled_at),
            "lineItems": _paged(lines),
            "fulfillmentOrders": _paged(fulfillment),
        }

    def _line(self, order: Order, index: int) -> Obj:
        line = order.lines[index]
        item = self._store.items[line.item_id]
        return {
            "id": gid("LineItem", line.id),
            "sku": line.sku,
            "name": line.title,
            "title": line.title,
            "quantity": line.quantity,
            "currentQuantity": line.quantity - line.restocked,
            "variant": lambda _info: self.variant(item),
        }


def _paged(objects: list[Obj]) -> Callable[..., Obj]:
    def page(_info: object, first: int | None = None, after: str | None = None, **_: object) -> Obj:
        indexed = list(enumerate(objects))
        return connection(indexed, lambda p: p[0], lambda p: p[1], first=first, after=after)

    return page
