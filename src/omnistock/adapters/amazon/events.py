"""Amazon orders and notifications, pure: the orders cursor (both Orders versions), v0 orders
into ChannelEvents, and signed notifications (ORDER_CHANGE, LISTINGS_ITEM_MFN_QUANTITY_CHANGE)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from omnistock.adapters.amazon.wire import DEFAULT_CHANNEL, SKU
from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import InvalidInputError, WebhookRejectedError
from omnistock.domain.ids import AccountId, Sku

ORDERS_PATH = "/orders/v0/orders"
V0, V2026 = "v0", "2026-01-01"  # the Orders API versions a cursor's token may come from
PAGE_SIZE = 100
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# The stand-in bridge (SQS/EventBridge → HTTPS) signs each body; see README "Notifications".
SIGNATURE_HEADER = "X-Omnistock-Bridge-Signature"
ASIN = "asin"
MFN, AFN = "MFN", "AFN"

_PLACED = (ChannelEventType.ORDER_PLACED,)
_KINDS: Mapping[str, tuple[ChannelEventType, ...]] = {
    "PendingAvailability": _PLACED,
    "Pending": _PLACED,
    "Unshipped": _PLACED,
    "PartiallyShipped": _PLACED,
    "Shipped": (ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_FULFILLED),
    "InvoiceUnconfirmed": (ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_FULFILLED),
    "Canceled": (ChannelEventType.ORDER_CANCELLED,),
    "Unfulfillable": (),
}


def order_kinds(status: str, fulfillment: str | None) -> tuple[ChannelEventType, ...]:
    """Pure table: what an order status means for MFN stock. AFN (FBA) orders draw on
    stock Amazon holds, not the merchant's, so they give none."""
    return () if fulfillment == AFN else _KINDS.get(status, ())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime:
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without zone: {text!r}")
    return parsed.astimezone(UTC)


# --- the orders cursor ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCursor:
    """`after`: the lower bound of the current query; `token`: its next-page token while
    paging, and `api`, the Orders version that issued it (a token works only there);
    `high`: the query's upper bound (Amazon's own "seen up to"), kept across pages."""

    after: datetime
    token: str | None = None
    high: datetime | None = None
    api: str = V0

    def encode(self) -> str:
        doc: dict[str, object] = {"v": 1, "after": iso(self.after), "token": self.token}
        if self.high is not None:
            doc["high"] = iso(self.high)
        if self.token is not None:
            doc["api"] = self.api
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> PollCursor:
        try:
            doc = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            high = doc.get("high")
            token = doc.get("token")
            api = doc.get("api", V0)  # cursors from before 2026-01-01 support paged v0
            if api not in (V0, V2026):
                raise ValueError(f"unknown Orders API {api!r}")
            return cls(
                after=parse_time(doc["after"]),
                token=token if isinstance(token, str) else None,
                high=None if high is None else parse_time(high),
                api=api,
            )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise InvalidInputError("cursor", "not an Amazon orders cursor") from exc


def orders_query(cursor: PollCursor, marketplace_id: str) -> dict[str, str]:
    """getOrders parameters: a NextToken page carries only the token (Amazon rejects
    filters beside it); otherwise orders updated after `after`. LastUpdatedBefore is left
    to Amazon, which caps it two minutes before now and reports it in the payload."""
    if cursor.token is not None:
        return {"MarketplaceIds": marketplace_id, "NextToken": cursor.token}
    return {
        "MarketplaceIds": marketplace_id,
        "LastUpdatedAfter": iso(cursor.after),
        "MaxResultsPerPage": str(PAGE_SIZE),
    }


@dataclass(frozen=True, slots=True)
class OrdersPage:
    """One page of either Orders version, as the cursor needs it."""

    orders: tuple[Mapping[str, object], ...]
    next_token: str | None
    high: datetime | None  # the query's upper bound as Amazon reports it
    latest: datetime | None = None  # the latest update among the orders
    api: str = V0


def orders_page(body: object) -> OrdersPage:
    """A v0 getOrders answer (`payload` wrapper, PascalCase)."""
    payload = body.get("payload") if isinstance(body, dict) else None
    orders = payload.get("Orders") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or not isinstance(orders, list):
        raise ValueError("getOrders answer without payload.Orders")
    token = payload.get("NextToken")
    high = payload.get("LastUpdatedBefore")
    found = tuple(o for o in orders if isinstance(o, dict))
    return OrdersPage(
        found,
        token if isinstance(token, str) and token else None,
        None if high is None else parse_time(high),
        max((parse_time(o.get("LastUpdateDate")) for o in found), default=None),
    )


def next_cursor(
    cursor: PollCursor, page: OrdersPage, overlap: timedelta
) -> tuple[PollCursor, bool]:
    """Follow NextToken; at the end, resume `overlap` before the query's upper bound (or
    before the latest update seen), never moving back: late commits are re-read."""
    high = cursor.high or page.high
    if page.next_token is not None:
        paging = PollCursor(after=cursor.after, token=page.next_token, high=high, api=page.api)
        return paging, True
    if high is None:
        high = page.latest or cursor.after + overlap
    return PollCursor(after=max(cursor.after, high - overlap)), False


def items_of(body: object) -> list[Mapping[str, object]]:
    payload = body.get("payload") if isinstance(body, dict) else None
    items = payload.get("OrderItems") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise ValueError("getOrderItems answer without payload.OrderItems")
    return [i for i in items if isinstance(i, dict)]


def order_events(
    order: Mapping[str, object], items: Sequence[Mapping[str, object]], account: AccountId
) -> list[ChannelEvent]:
    """A polled v0 order (with its getOrderItems lines) as events; keys match those of
    the same order's ORDER_CHANGE notification, so either source applies once."""
    order_id = str(order.get("AmazonOrderId"))
    kinds = order_kinds(str(order.get("OrderStatus")), _str(order.get("FulfillmentChannel")))
    lines = tuple(
        order_line(
            i.get("OrderItemId"), i.get("SellerSKU"), i.get("QuantityOrdered"), i.get("ASIN")
        )
        for i in items
    )
    when = parse_time(order.get("LastUpdateDate"))
    return [order_event(kind, account, order_id, when, lines) for kind in kinds]


def order_line(item_id: object, sku: object, quantity: object, asin: object) -> OrderLine:
    if not isinstance(quantity, int):
        raise ValueError(f"order item {item_id!r} without an integer quantity")
    ids = {SKU: sku} if isinstance(sku, str) else {}
    if isinstance(asin, str):
        ids[ASIN] = asin
    return OrderLine(
        line_id=str(item_id),
        quantity=quantity,
        sku=Sku(sku) if isinstance(sku, str) and sku else None,
        external_ids=ids,
    )


def order_event(
    kind: ChannelEventType,
    account: AccountId,
    order_id: str,
    when: datetime,
    lines: tuple[OrderLine, ...],
) -> ChannelEvent:
    return ChannelEvent(
        kind=kind,
        account=account,
        dedupe_key=f"amazon:{account}:order:{order_id}:{kind.value}",
        occurred_at=when,
        order_id=order_id,
        lines=lines,
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# --- notifications -----------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The bridge's signature: base64(HMAC-SHA256(per-account secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, secret: Secret) -> None:
    wanted = SIGNATURE_HEADER.lower()
    given = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if not given:
        raise WebhookRejectedError("unsigned notification")
    if not hmac.compare_digest(given.encode(), sign(secret.reveal(), body).encode()):
        raise WebhookRejectedError("notification signature does not match")


class NotificationParser:
    """Verifies a delivery, then turns its envelope into events (none for other types)."""

    def __init__(self, account: AccountId, secret: Secret) -> None:
        self._account = account
        self._secret = secret

    def parse(self, headers: Mapping[str, str], body: bytes) -> list[ChannelEvent]:
        verify(headers, body, self._secret)
        try:
            envelope = json.loads(body)
            kind = envelope["NotificationType"]
            payload = envelope["Payload"]
            if kind == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE":
                return self._quantity(envelope, payload)
            if kind == "ORDER_CHANGE":
                return self._order(payload["OrderChangeNotification"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejectedError(f"malformed notification: {exc}", status=400) from None
        return []

    def _quantity(self, envelope: dict[str, object], p: dict[str, object]) -> list[ChannelEvent]:
        if p.get("FulfillmentChannelCode") != DEFAULT_CHANNEL:
            return []  # FBA levels are Amazon's to keep
        sku, quantity = p["Sku"], p["Quantity"]
        meta = envelope["NotificationMetadata"]
        if not isinstance(sku, str) or not isinstance(quantity, int) or not isinstance(meta, dict):
            raise ValueError("quantity change without Sku, Quantity and metadata")
        return [
            ChannelEvent(
                kind=ChannelEventType.QUANTITY_CHANGED,
                account=self._account,
                dedupe_key=f"amazon:{self._account}:notification:{meta['NotificationId']}",
                occurred_at=parse_time(envelope["EventTime"]),
                external_ids={SKU: sku},
                quantity=quantity,
            )
        ]

    def _order(self, change: dict[str, object]) -> list[ChannelEvent]:
        summary = change["Summary"]
        if not isinstance(summary, dict):
            raise ValueError("ORDER_CHANGE without Summary")
        kinds = order_kinds(str(summary["OrderStatus"]), _str(summary.get("FulfillmentType")))
        items = summary.get("OrderItems") or []
        lines = tuple(
            order_line(i.get("OrderItemId"), i.get("SellerSKU"), i.get("Quantity"), None)
            for i in (items if isinstance(items, list) else [])
            if isinstance(i, dict)
        )
        trigger = change.get("OrderChangeTrigger")
        when = parse_time(trigger.get("TimeOfOrderChange") if isinstance(trigger, dict) else None)
        order_id = str(change["AmazonOrderId"])
        return [order_event(k, self._account, order_id, when, lines) for k in kinds]
