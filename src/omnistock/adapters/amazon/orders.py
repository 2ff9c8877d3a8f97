"""Orders API 2026-01-01 searchOrders, pure: the query (merchant-fulfilled orders updated
since the cursor, with the FULFILLMENT dataset), its page, and its orders as ChannelEvents."""

from __future__ import annotations

from collections.abc import Mapping

from omnistock.adapters.amazon.events import (
    PAGE_SIZE,
    V2026,
    OrdersPage,
    PollCursor,
    iso,
    order_event,
    order_line,
    parse_time,
)
from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.domain.ids import AccountId

SEARCH_PATH = "/orders/2026-01-01/orders"

_PLACED = (ChannelEventType.ORDER_PLACED,)
# FulfillmentStatus → what it means for MFN stock (cf. events.order_kinds for v0).
_KINDS: Mapping[str, tuple[ChannelEventType, ...]] = {
    "PENDING_AVAILABILITY": _PLACED,
    "PENDING": _PLACED,
    "UNSHIPPED": _PLACED,
    "PARTIALLY_SHIPPED": _PLACED,
    "SHIPPED": (ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_FULFILLED),
    "CANCELLED": (ChannelEventType.ORDER_CANCELLED,),
    "UNFULFILLABLE": (),
}


def order_kinds(status: str, fulfilled_by: str | None) -> tuple[ChannelEventType, ...]:
    """Pure table: Amazon-fulfilled orders draw on FBA stock, not the merchant's."""
    return () if fulfilled_by == "AMAZON" else _KINDS.get(status, ())


def search_query(cursor: PollCursor, marketplace_id: str) -> dict[str, str]:
    """searchOrders parameters. A later page repeats the first page's parameters and adds
    the token (the model: all but maxResultsPerPage and includedData must be the same).
    lastUpdatedBefore is left to Amazon, which holds it two minutes before now and says
    which bound it used in `lastUpdatedBefore`. FULFILLMENT carries each order's status;
    fulfilledBy=MERCHANT spares the FBA orders that say nothing about our stock."""
    query = {
        "lastUpdatedAfter": iso(cursor.after),
        "marketplaceIds": marketplace_id,
        "fulfilledBy": "MERCHANT",
        "includedData": "FULFILLMENT",
        "maxResultsPerPage": str(PAGE_SIZE),
    }
    if cursor.token is not None:
        query["paginationToken"] = cursor.token
    return query


def search_page(body: object) -> OrdersPage:
    """A SearchOrdersResponse: `orders`, `pagination.nextToken`, `lastUpdatedBefore`."""
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(orders, list):
        raise ValueError("searchOrders answer without orders")
    pagination = body.get("pagination")
    token = pagination.get("nextToken") if isinstance(pagination, dict) else None
    high = body.get("lastUpdatedBefore")
    found = tuple(o for o in orders if isinstance(o, dict))
    return OrdersPage(
        found,
        token if isinstance(token, str) and token else None,
        None if high is None else parse_time(high),
        max((parse_time(o.get("lastUpdatedTime")) for o in found), default=None),
        V2026,
    )


def order_events(order: Mapping[str, object], account: AccountId) -> list[ChannelEvent]:
    """An Order (items inline) as events, keyed like the v0 order and the ORDER_CHANGE
    notification of the same order, so whichever source comes first applies once."""
    fulfillment = order.get("fulfillment")
    if not isinstance(fulfillment, dict):
        raise ValueError("order without fulfillment (includedData=FULFILLMENT)")
    by = fulfillment.get("fulfilledBy")
    kinds = order_kinds(
        str(fulfillment.get("fulfillmentStatus")), by if isinstance(by, str) else None
    )
    if not kinds:
        return []
    items = order.get("orderItems")
    if not isinstance(items, list):
        raise ValueError("order without orderItems")
    lines = tuple(_line(i) for i in items if isinstance(i, dict))
    order_id, when = str(order.get("orderId")), parse_time(order.get("lastUpdatedTime"))
    return [order_event(kind, account, order_id, when, lines) for kind in kinds]


def _line(item: Mapping[str, object]) -> OrderLine:
    raw = item.get("product")
    product: Mapping[str, object] = raw if isinstance(raw, dict) else {}
    return order_line(
        item.get("orderItemId"),
        product.get("sellerSku"),
        item.get("quantityOrdered"),
        product.get("asin"),
    )
