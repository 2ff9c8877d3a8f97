"""WooCommerce orders and webhooks, pure: the orders polling cursor, and the normalisation of
orders and signed webhook deliveries into ChannelEvents. No I/O happens here.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce.wire import PER_PAGE, StockRow, Target, WooLineItem, WooOrder
from omnistock.domain.errors import InvalidInputError, WebhookRejectedError
from omnistock.domain.ids import AccountId, Sku

WP_DATE = "%Y-%m-%dT%H:%M:%S"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ORDERS = TypeAdapter(list[WooOrder])


# --- orders: the cursor ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCursor:
    """Where order polling stands. Normally a keyset on `date_modified_gmt`: page 1 of orders
    modified after `after`. When more than a page of orders sits inside the overlap window
    (keyset cannot advance), the window (after, before) is swept ordered by id, from the
    last page down to page 1, so orders leaving the window while we page cannot shift an
    unread one onto a page already read. `pages` is None while probing the page count."""

    after: datetime
    before: datetime | None = None
    page: int = 1
    pages: int | None = None

    def encode(self) -> str:
        doc: dict[str, object] = {"v": 1, "after": self.after.strftime(WP_DATE), "page": self.page}
        if self.before is not None:
            doc.update(before=self.before.strftime(WP_DATE), pages=self.pages)
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> PollCursor:
        try:
            doc = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            before = doc.get("before")
            return cls(
                after=parse_gmt(doc["after"]),
                before=None if before is None else parse_gmt(before),
                page=int(doc["page"]),
                pages=None if doc.get("pages") is None else int(doc["pages"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise InvalidInputError("cursor", "not a WooCommerce orders cursor") from exc


def parse_gmt(text: str) -> datetime:
    """A WordPress `_gmt` date (no zone, one-second resolution) as an aware UTC datetime."""
    if (
        len(text) == 19
        and text[4] == text[7] == "-"
        and text[10] == "T"
        and text[13] == text[16] == ":"
    ):
        # WordPress's own shape, zero-padded: fromisoformat is ~10x cheaper than strptime
        # (a date per order on the webhook route); the checks keep zones and fractions out.
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.strptime(text, WP_DATE).replace(tzinfo=UTC)


def orders_query(cursor: PollCursor) -> dict[str, str]:
    params = {
        "modified_after": cursor.after.strftime(WP_DATE),
        "dates_are_gmt": "true",
        "orderby": "modified" if cursor.before is None else "id",
        "order": "asc",
        "per_page": str(PER_PAGE),
        "page": str(cursor.page),
    }
    if cursor.before is not None:
        params["modified_before"] = cursor.before.strftime(WP_DATE)
    return params


def next_cursor(
    cursor: PollCursor, modified: Sequence[datetime], total_pages: int, overlap: timedelta
) -> tuple[PollCursor, bool]:
    """Pure: the cursor after a page whose orders have these `date_modified_gmt`, and whether
    another page is ready now. The high-water mark minus `overlap` is re-read each time,
    so equal timestamps and clock skew cost duplicates, never a lost order."""
    if cursor.before is not None:
        return _next_in_window(cursor, cursor.before, total_pages), True
    if not modified:
        return cursor, False
    high = max(modified)
    if total_pages <= 1:
        return replace(cursor, after=max(cursor.after, high - overlap)), False
    if high - overlap > cursor.after:
        return replace(cursor, after=high - overlap), True
    # A full page inside the overlap window: keyset cannot advance, sweep the window instead.
    # Its top second is left to the keyset that follows (orders may still be arriving in
    # it), unless the whole page sits in that one second: then the window must hold it.
    top = high if min(modified) < high else high + timedelta(seconds=1)
    return PollCursor(after=cursor.after, before=top), True


def _next_in_window(cursor: PollCursor, before: datetime, total_pages: int) -> PollCursor:
    if cursor.pages is None and total_pages > 1:
        return replace(cursor, page=total_pages, pages=total_pages)
    if cursor.pages is not None and cursor.page > 1:
        return replace(cursor, page=cursor.page - 1)
    # Window swept: the keyset goes on from its last second (modified_after is exclusive).
    return PollCursor(after=before - timedelta(seconds=1))


# --- orders and webhooks: normalisation --------------------------------------------------

_KINDS_BY_STATUS: dict[str, tuple[ChannelEventType, ...]] = {
    "processing": (ChannelEventType.ORDER_PLACED,),
    "on-hold": (ChannelEventType.ORDER_PLACED,),
    "completed": (ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_FULFILLED),
    "cancelled": (ChannelEventType.ORDER_CANCELLED,),
    "failed": (ChannelEventType.ORDER_CANCELLED,),
    "refunded": (ChannelEventType.ORDER_REFUNDED,),
}


def parse_orders(payload: object) -> list[WooOrder]:
    """The orders of a GET /orders answer; ValueError when it is not a list of orders."""
    try:
        return _ORDERS.validate_python(payload)
    except ValidationError as exc:
        raise ValueError("unexpected order listing") from exc


def order_events(order: WooOrder, account: AccountId) -> tuple[ChannelEvent, ...]:
    """The facts an order's current status states; pending, draft and trash state none.

    A status change to refunded does not restock in WooCommerce (core's fully-refunded
    refund is created without restock_items), hence restock=False; a merchant's
    restocking refund raises stock_quantity and arrives as a product.updated instead."""
    occurred = parse_gmt(order.date_modified_gmt)
    lines = tuple(_line(item) for item in order.line_items)
    base = f"woocommerce:{account}:order:{order.id}:{order.status}:{order.date_modified_gmt}"
    return tuple(
        ChannelEvent(
            kind=kind,
            account=account,
            dedupe_key=f"{base}:{kind.value}",
            occurred_at=occurred,
            order_id=str(order.id),
            lines=lines,
            restock=False if kind is ChannelEventType.ORDER_REFUNDED else None,
        )
        for kind in _KINDS_BY_STATUS.get(order.status, ())
    )


def _line(item: WooLineItem) -> OrderLine:
    return OrderLine(
        line_id=str(item.id),
        quantity=item.quantity,
        sku=Sku(item.sku) if item.sku else None,
        external_ids=Target(item.product_id, item.variation_id or None).external_ids(),
    )


def stock_event(row: StockRow, account: AccountId) -> tuple[ChannelEvent, ...]:
    """QUANTITY_CHANGED for a product.updated payload; none when stock is not managed."""
    quantity = row.shown()
    if quantity is None or row.date_modified_gmt is None:
        return ()
    variation = row.type == "variation" and row.parent_id > 0
    target = Target(row.parent_id, row.id) if variation else Target(row.id)
    key = f"woocommerce:{account}:stock:{target.key}:{quantity}:{row.date_modified_gmt}"
    event = ChannelEvent(
        kind=ChannelEventType.QUANTITY_CHANGED,
        account=account,
        dedupe_key=key,
        occurred_at=parse_gmt(row.date_modified_gmt),
        external_ids=target.external_ids(),
        quantity=quantity,
    )
    return (event,)


SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
_PING = re.compile(rb"webhook_id=\d+")


def signature(secret: str, body: bytes) -> str:
    """X-WC-Webhook-Signature: base64(HMAC-SHA256(secret, the exact body bytes))."""
    # hmac.digest: OpenSSL's one-shot HMAC, without the HMAC object hmac.new builds.
    return base64.b64encode(hmac.digest(secret.encode(), body, "sha256")).decode()


@dataclass(frozen=True, slots=True)
class WebhookParser:
    """Verifies and normalises deliveries for one account and webhook secret."""

    account: AccountId
    secret: Secret

    def parse(self, headers: Mapping[str, str], body: bytes) -> tuple[ChannelEvent, ...]:
        """Check the signature over the raw body first, then the JSON, then normalise.

        The activation ping (form body `webhook_id=N`) is unsigned by WooCommerce itself and
        must get a 200 or the merchant sees an error; it carries no data, so accepting it
        yields no events and lets nothing through."""
        lower = {k.lower(): v for k, v in headers.items()}
        given = lower.get(SIGNATURE_HEADER)
        if given is None:
            if _PING.fullmatch(body.strip()) and TOPIC_HEADER not in lower:
                return ()
            raise WebhookRejectedError("unsigned webhook", status=401)
        expected = signature(self.secret.reveal(), body)
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise WebhookRejectedError("bad webhook signature", status=401)
        return self._normalise(lower.get(TOPIC_HEADER, ""), body)

    def _normalise(self, topic: str, body: bytes) -> tuple[ChannelEvent, ...]:
        resource, _, _ = topic.partition(".")
        try:
            if topic in ("order.created", "order.updated", "order.restored"):
                return order_events(WooOrder.model_validate_json(body), self.account)
            if topic in ("product.created", "product.updated", "product.restored"):
                return stock_event(StockRow.model_validate_json(body), self.account)
        except (ValidationError, ValueError) as exc:
            raise WebhookRejectedError(f"malformed {topic} payload", status=400) from exc
        if resource not in ("order", "product", "coupon", "customer", "action"):
            raise WebhookRejectedError("missing or unknown webhook topic", status=400)
        # Other topics (deletions, customers, …) carry no stock fact; a 2xx keeps the
        # webhook alive (WooCommerce disables one after repeated failures).
        return ()
