"""Listing discovery on Shopify: every product variant with its inventory item's levels,
one `productVariants` page per `discover` call, one listing per (variant, location).

Cost plan: the first call reads how many locations the shop has (up to LEVELS_CAP) and sizes
the level page to it, then the variant page to keep a query within MAX_QUERY_COST; both go
into the cursor (`{levels}/{endCursor}`), so a resumed run asks for the same pages. An item
stocked at more locations than its level page holds is read on with `inventoryItem`.
Pure apart from `discover_page`, which calls through the adapter's `graphql` (its limiter)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from omnistock.adapters.base import DiscoveredListing, DiscoveryPage
from omnistock.adapters.shopify.wire import (
    INVENTORY_ITEM_ID,
    LOCATION_ID,
    VARIANT_ID,
    legacy_id,
)

MAX_QUERY_COST = 1000  # Shopify refuses a single query that requests more
MAX_PAGE = 250
LEVELS_CAP = 50  # level page size at most; more locations are read on per item
MORE_LEVELS_PAGE = 250

Graphql = Callable[[str, Mapping[str, object], float], Awaitable[object]]

LOCATIONS = """
query DiscoverLocations($first: Int!) {
  locations(first: $first) { nodes { id } pageInfo { hasNextPage } }
}"""

_LEVELS = """nodes { location { id } quantities(names: ["available"]) { name quantity } }
      pageInfo { hasNextPage endCursor }"""

VARIANTS = f"""
query DiscoverVariants($first: Int!, $after: String, $levels: Int!) {{
  productVariants(first: $first, after: $after) {{
    nodes {{
      id
      sku
      displayName
      inventoryItem {{
        id
        tracked
        inventoryLevels(first: $levels) {{
      {_LEVELS}
        }}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

MORE_LEVELS = f"""
query DiscoverMoreLevels($id: ID!, $first: Int!, $after: String) {{
  inventoryItem(id: $id) {{
    inventoryLevels(first: $first, after: $after) {{
      {_LEVELS}
    }}
  }}
}}"""

DOCUMENTS = (LOCATIONS, VARIANTS, MORE_LEVELS)


class InvalidCursorError(ValueError):
    """A cursor this adapter did not issue."""


def locations_cost(first: int = LEVELS_CAP) -> int:
    """locations (1) + per node (1) + pageInfo (1)."""
    return 2 + first


def level_cost(levels: int) -> int:
    """inventoryLevels (1) + per level: node, location, one quantity (3) + pageInfo (1)."""
    return 2 + 3 * levels


def variants_cost(first: int, levels: int) -> int:
    """productVariants (1) + pageInfo (1) + per variant: node, inventoryItem and its levels."""
    return 2 + first * (2 + level_cost(levels))


def page_size(levels: int) -> int:
    """The most variants a page can ask for within MAX_QUERY_COST."""
    return max(1, min(MAX_PAGE, (MAX_QUERY_COST - 2) // (2 + level_cost(levels))))


@dataclass(frozen=True, slots=True)
class Cursor:
    levels: int  # level page size, planned on the first call
    after: str | None  # the productVariants endCursor

    def encode(self) -> str:
        return f"{self.levels}/{self.after or ''}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        levels, sep, after = text.partition("/")
        if not sep or not levels.isdigit() or not 1 <= int(levels) <= LEVELS_CAP:
            raise InvalidCursorError("not a Shopify discovery cursor")
        return cls(int(levels), after or None)


def levels_planned(body: object) -> int:
    """The level page size for the shop: its locations, at least 1, at most LEVELS_CAP."""
    nodes = _at(body, "data", "locations", "nodes")
    if not isinstance(nodes, list):
        raise ValueError("locations answer without nodes")
    return max(1, min(len(nodes), LEVELS_CAP))


@dataclass(frozen=True, slots=True)
class Variant:
    node: Mapping[str, object]
    levels: list[Mapping[str, object]]
    more_after: str | None  # the level cursor to read on from, when there are more


def variants_page(body: object) -> tuple[list[Variant], str | None]:
    """The page's variants and the endCursor after it (None: the last page)."""
    page = _at(body, "data", "productVariants")
    nodes, info = _at(page, "nodes"), _at(page, "pageInfo")
    if not isinstance(nodes, list) or not isinstance(info, dict):
        raise ValueError("productVariants answer without nodes and pageInfo")
    variants = []
    for node in nodes:
        levels, more = level_page(_at(node, "inventoryItem", "inventoryLevels"))
        variants.append(Variant(node, levels, more))
    end = info.get("endCursor")
    return variants, (str(end) if info.get("hasNextPage") and end else None)


def level_page(connection: object) -> tuple[list[Mapping[str, object]], str | None]:
    nodes, info = _at(connection, "nodes"), _at(connection, "pageInfo")
    if not isinstance(nodes, list) or not isinstance(info, dict):
        return [], None  # an item Shopify does not answer levels for: no location
    end = info.get("endCursor")
    return nodes, (str(end) if info.get("hasNextPage") and end else None)


def listings_of(variant: Variant) -> list[DiscoveredListing]:
    """One listing per level; a variant stocked nowhere is one unwritable listing."""
    node = variant.node
    number, item = legacy_id(node.get("id")), _at(node, "inventoryItem")
    item_id = legacy_id(_at(item, "id"))
    if number is None or item_id is None:
        raise ValueError("variant without numeric variant and inventory item ids")
    tracked = _at(item, "tracked") is True
    raw_sku, raw_title = node.get("sku"), node.get("displayName")
    sku, title = (str(raw_sku) if raw_sku else None), str(raw_title or "")
    base = {VARIANT_ID: number, INVENTORY_ITEM_ID: item_id}
    if not variant.levels:
        return [
            DiscoveredListing(key=number, sku=sku, external_ids=base, managed=False, title=title)
        ]
    found = []
    for level in variant.levels:
        location = legacy_id(_at(level, "location", "id"))
        if location is None:
            raise ValueError("inventory level without a numeric location id")
        found.append(
            DiscoveredListing(
                key=f"{number}@{location}",
                external_ids={**base, LOCATION_ID: location},
                managed=tracked,
                quantity=_available(level) if tracked else None,
                location=location,
                sku=sku,
                title=title,
            )
        )
    return found


def _available(level: Mapping[str, object]) -> int | None:
    quantities = level.get("quantities")
    for entry in quantities if isinstance(quantities, list) else ():
        if isinstance(entry, dict) and entry.get("name") == "available":
            value = entry.get("quantity")
            return value if isinstance(value, int) else None
    return None


def _at(value: object, *path: str) -> object:
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


async def discover_page(graphql: Graphql, cursor: str | None) -> DiscoveryPage:
    """The page after `cursor`. Raises InvalidCursorError, ChannelError, or ValueError on an
    answer it cannot read."""
    if cursor:
        state = Cursor.decode(cursor)
    else:
        body = await graphql(LOCATIONS, {"first": LEVELS_CAP}, locations_cost())
        state = Cursor(levels_planned(body), None)
    first = page_size(state.levels)
    variables = {"first": first, "after": state.after, "levels": state.levels}
    body = await graphql(VARIANTS, variables, variants_cost(first, state.levels))
    variants, end = variants_page(body)
    for variant in variants:
        if variant.more_after is not None:
            variant.levels.extend(await _more_levels(graphql, variant))
    listings = tuple(x for variant in variants for x in listings_of(variant))
    return DiscoveryPage(listings=listings, cursor=None if end is None else _next(state, end))


async def _more_levels(graphql: Graphql, variant: Variant) -> Sequence[Mapping[str, object]]:
    item = _at(variant.node, "inventoryItem", "id")
    found: list[Mapping[str, object]] = []
    after = variant.more_after
    while after is not None:
        variables = {"id": item, "first": MORE_LEVELS_PAGE, "after": after}
        body = await graphql(MORE_LEVELS, variables, 1 + level_cost(MORE_LEVELS_PAGE))
        levels, after = level_page(_at(body, "data", "inventoryItem", "inventoryLevels"))
        found.extend(levels)
    return found


def _next(state: Cursor, end: str) -> str:
    return Cursor(state.levels, end).encode()
