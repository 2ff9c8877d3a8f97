"""Discovery of every inventory item by `GET /inventory_item?limit=200&offset=<page>` (eBay's
offset is a page number), pure: the cursor, the query and the reading of a page.

Only the pages are read: 100,000 items are 500 calls of the Inventory API's daily quota.
The offers (`GET /offer?sku=`, one call per SKU: 100,000 more) would add the listing id,
which neither a push nor a read needs: both address the inventory item by its SKU."""

from __future__ import annotations

from collections.abc import Mapping

from omnistock.adapters.base import DiscoveredListing, DiscoveryPage
from omnistock.adapters.ebay.wire import INVENTORY, SKU

INVENTORY_ITEMS = f"{INVENTORY}/inventory_item"
PAGE_LIMIT = 200  # getInventoryItems' maximum `limit`
CURSOR_PREFIX = "ebay-items/1"


def encode_cursor(page: int) -> str:
    return f"{CURSOR_PREFIX}:{page}"


def decode_cursor(cursor: str | None) -> int:
    """The page number a cursor resumes at (None: the first, 0). Raises ValueError."""
    if cursor is None:
        return 0
    prefix, _, page = cursor.rpartition(":")
    if prefix != CURSOR_PREFIX or not page.isdigit():
        raise ValueError(f"not an eBay discovery cursor: {cursor!r}")
    return int(page)


def page_params(page: int) -> dict[str, str]:
    return {"limit": str(PAGE_LIMIT), "offset": str(page)}


def items_page(body: object, page: int) -> DiscoveryPage:
    """An InventoryItems answer as a DiscoveryPage: its cursor is the next page while eBay
    links one (`next`) and this page was not empty. Raises ValueError for another body."""
    if not isinstance(body, dict):
        raise ValueError("not an InventoryItems answer")
    raw = body.get("inventoryItems", [])  # eBay leaves it out of an empty page
    if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
        raise ValueError("inventoryItems is not a list of items")
    listings = tuple(found for item in raw if (found := discovered(item)) is not None)
    more = bool(raw) and isinstance(body.get("next"), str) and bool(body["next"])
    total = body.get("total")
    return DiscoveryPage(
        listings=listings,
        cursor=encode_cursor(page + 1) if more else None,
        total=total if isinstance(total, int) else None,
    )


def discovered(item: Mapping[str, object]) -> DiscoveredListing | None:
    """One inventory item (None without a SKU). Every item is managed: eBay keeps its
    ship-to-home quantity, and bulk_update_price_quantity writes it whether or not an
    offer is published yet (it shows once one is)."""
    sku = item.get("sku")
    if not isinstance(sku, str) or not sku:
        return None
    product = item.get("product")
    title = product.get("title") if isinstance(product, dict) else None
    return DiscoveredListing(
        key=sku,
        sku=sku,
        external_ids={SKU: sku},
        managed=True,
        quantity=_ship_quantity(item.get("availability")),
        title=title if isinstance(title, str) else "",
    )


def _ship_quantity(availability: object) -> int | None:
    ship = (
        availability.get("shipToLocationAvailability") if isinstance(availability, dict) else None
    )
    quantity = ship.get("quantity") if isinstance(ship, dict) else None
    return quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None
