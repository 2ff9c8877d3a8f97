"""JSON forms of the sandbox's objects, as the Inventory and Fulfillment APIs return them."""

from __future__ import annotations

from omnistock.kit.sandbox.ebay.quota import iso
from omnistock.kit.sandbox.ebay.store import InventoryItem, ItemGroup, Line, Offer, Order


def availability(item: InventoryItem) -> dict[str, object]:
    ship: dict[str, object] = {"quantity": item.quantity or 0}
    if item.distributions:
        ship["availabilityDistributions"] = [
            {"merchantLocationKey": key, "quantity": qty} for key, qty in item.distributions.items()
        ]
    return {"shipToLocationAvailability": ship}


def inventory_item(item: InventoryItem) -> dict[str, object]:
    doc: dict[str, object] = {
        "sku": item.sku,
        "locale": item.locale,
        "product": item.product,
        "availability": availability(item),
    }
    if item.condition:
        doc["condition"] = item.condition
    if item.group_keys:
        doc["inventoryItemGroupKeys"] = list(item.group_keys)
    return doc


def offer(o: Offer) -> dict[str, object]:
    doc: dict[str, object] = {
        "offerId": o.offer_id,
        "sku": o.sku,
        "marketplaceId": o.marketplace_id,
        "format": o.format,
        "pricingSummary": {"price": o.price},
        "status": "PUBLISHED" if o.listing_id else "UNPUBLISHED",
    }
    if o.available_quantity is not None:
        doc["availableQuantity"] = o.available_quantity
    if o.listing_id:
        doc["listing"] = {"listingId": o.listing_id, "listingStatus": "ACTIVE"}
    return doc


def item_group(group: ItemGroup) -> dict[str, object]:
    return {
        "inventoryItemGroupKey": group.key,
        "title": group.title,
        "variantSKUs": list(group.variant_skus),
        "variesBy": group.varies_by,
    }


def order(o: Order, base_url: str) -> dict[str, object]:
    cancel: dict[str, object] = {
        "cancelState": "CANCELED" if o.cancelled else "NONE_REQUESTED",
        "cancelRequests": [],
    }
    if o.cancelled:
        cancel["cancelledDate"] = iso(o.modified)
    return {
        "orderId": o.order_id,
        "creationDate": iso(o.created),
        "lastModifiedDate": iso(o.modified),
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "FULLY_REFUNDED" if o.cancelled else "PAID",
        "cancelStatus": cancel,
        "lineItems": [line_item(line) for line in o.lines],
        "fulfillmentHrefs": [],
        "sellerId": "omnistock_sandbox_seller",
    }


def line_item(line: Line) -> dict[str, object]:
    doc: dict[str, object] = {
        "lineItemId": line.line_id,
        "legacyItemId": line.legacy_item_id,
        "sku": line.sku,
        "quantity": line.quantity,
        "lineItemFulfillmentStatus": "NOT_STARTED",
        "listingMarketplaceId": "EBAY_US",
        "purchaseMarketplaceId": "EBAY_US",
        "soldFormat": "FIXED_PRICE",
    }
    if line.legacy_variation_id:
        doc["legacyVariationId"] = line.legacy_variation_id
    return doc
