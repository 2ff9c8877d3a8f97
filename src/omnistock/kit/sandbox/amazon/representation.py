"""How the sandbox's listings and orders look on the wire (the models' field names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from omnistock.kit.sandbox.amazon.store import Listing, Order, OrderItem

Obj = dict[str, object]
# The store keeps v0 OrderStatus values; Orders 2026-01-01 calls them FulfillmentStatus.
FULFILLMENT_STATUS: Mapping[str, str] = {
    "PendingAvailability": "PENDING_AVAILABILITY",
    "Pending": "PENDING",
    "Unshipped": "UNSHIPPED",
    "PartiallyShipped": "PARTIALLY_SHIPPED",
    "Shipped": "SHIPPED",
    "InvoiceUnconfirmed": "SHIPPED",
    "Canceled": "CANCELLED",
    "Unfulfillable": "UNFULFILLABLE",
}


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def listing_view(listing: Listing, marketplace_id: str, included: Sequence[str]) -> Obj:
    view: Obj = {"sku": listing.sku}
    if "summaries" in included:
        view["summaries"] = [
            {
                "marketplaceId": marketplace_id,
                "asin": listing.asin,
                "productType": listing.product_type,
                "conditionType": "new_new",
                "status": ["BUYABLE", "DISCOVERABLE"] if listing.quantity else ["DISCOVERABLE"],
                "itemName": listing.title,
                "createdDate": iso(listing.created),
                "lastUpdatedDate": iso(listing.updated),
            }
        ]
    if "fulfillmentAvailability" in included:
        if listing.fulfillment_channel != "DEFAULT":
            # Fulfilled by Amazon: the offer names its channel; its stock is Amazon's (the
            # FBA inventory API's), not a quantity the Listings Items API carries.
            view["fulfillmentAvailability"] = [
                {"fulfillmentChannelCode": listing.fulfillment_channel}
            ]
        else:
            view["fulfillmentAvailability"] = (
                []
                if listing.quantity is None
                else [{"fulfillmentChannelCode": "DEFAULT", "quantity": listing.quantity}]
            )
    if "issues" in included:
        view["issues"] = []
    return view


def order_v0(order: Order, marketplace_id: str) -> Obj:
    unshipped = sum(i.quantity for i in order.items) if order.status == "Unshipped" else 0
    return {
        "AmazonOrderId": order.id,
        "PurchaseDate": iso(order.created),
        "LastUpdateDate": iso(order.updated),
        "OrderStatus": order.status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "OrderType": "StandardOrder",
        "MarketplaceId": marketplace_id,
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": unshipped,
        "IsPrime": False,
        "IsBusinessOrder": False,
    }


def order_items_v0(order: Order) -> Obj:
    return {
        "payload": {
            "AmazonOrderId": order.id,
            "OrderItems": [
                {
                    "ASIN": item.asin,
                    "SellerSKU": item.sku,
                    "OrderItemId": item.item_id,
                    "QuantityOrdered": item.quantity,
                    "QuantityShipped": 0,
                }
                for item in order.items
            ],
        }
    }


def order_v2026(order: Order, marketplace_id: str, included: Sequence[str]) -> Obj:
    """An Orders 2026-01-01 `Order`: items always inline; `fulfillment` (the status) only
    with includedData=FULFILLMENT. The other datasets hold nothing stock needs and are
    omitted (a sandbox simplification)."""
    with_fulfillment = "FULFILLMENT" in included
    view: Obj = {
        "orderId": order.id,
        "createdTime": iso(order.created),
        "lastUpdatedTime": iso(order.updated),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": marketplace_id},
        "orderItems": [_item_v2026(order, i, with_fulfillment) for i in order.items],
    }
    if with_fulfillment:
        view["fulfillment"] = {
            "fulfillmentStatus": FULFILLMENT_STATUS[order.status],
            "fulfilledBy": "MERCHANT",
            "fulfillmentServiceLevel": "STANDARD",
        }
    return view


def _item_v2026(order: Order, item: OrderItem, with_fulfillment: bool) -> Obj:
    view: Obj = {
        "orderItemId": item.item_id,
        "quantityOrdered": item.quantity,
        "product": {"asin": item.asin, "sellerSku": item.sku},
    }
    if with_fulfillment:
        shipped = item.quantity if FULFILLMENT_STATUS[order.status] == "SHIPPED" else 0
        view["fulfillment"] = {
            "quantityFulfilled": shipped,
            "quantityUnfulfilled": 0 if order.status == "Canceled" else item.quantity - shipped,
        }
    return view
