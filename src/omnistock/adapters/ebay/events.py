"""eBay orders, pure: the getOrders polling cursor (lastmodifieddate with an overlap) and
the normalisation of polled orders into ChannelEvents."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.adapters.ebay.wire import LISTING_ID, VARIATION_ID
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, Sku

PAGE = 200  # getOrders' maximum limit
Obj = Mapping[str, object]


def parse_time(text: object) -> datetime:
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def ebay_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCursor:
    """Orders modified since `after` (None: eBay's default, the last 90 days), read at
    record `offset` of that query; `high` is the latest lastModifiedDate seen in it."""

    after: datetime | None
    offset: int = 0
    high: datetime | None = None

    def encode(self) -> str:
        doc = {
            "v": 1,
            "after": None if self.after is None else self.after.isoformat(),
            "offset": self.offset,
            "high": None if self.high is None else self.high.isoformat(),
        }
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> PollCursor:
        try:
            doc = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            after, high = doc.get("after"), doc.get("high")
            return cls(
                after=None if after is None else parse_time(after),
                offset=int(doc.get("offset", 0)),
                high=None if high is None else parse_time(high),
            )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise InvalidInputError("cursor", "not an eBay orders cursor") from exc


def orders_params(cursor: PollCursor) -> dict[str, str]:
    params = {"limit": str(PAGE), "offset": str(cursor.offset)}
    if cursor.after is not None:
        params["filter"] = f"lastmodifieddate:[{ebay_time(cursor.after)}..]"
    return params


def next_cursor(
    cursor: PollCursor, modified: Sequence[datetime], more: bool, overlap: timedelta
) -> PollCursor:
    """Page on by offset inside the query while there is more; then restart it from the
    high-water mark minus `overlap` (equal timestamps and skew cost duplicates only)."""
    high = max([*modified, *([cursor.high] if cursor.high else [])], default=None)
    if more:
        return PollCursor(after=cursor.after, offset=cursor.offset + len(modified), high=high)
    if high is None:
        return PollCursor(after=cursor.after)
    start = high - overlap
    return PollCursor(after=start if cursor.after is None else max(cursor.after, start))


def order_events(order: Obj, account: AccountId) -> list[ChannelEvent]:
    """A polled order as ORDER_PLACED, plus ORDER_CANCELLED once its cancelState is
    CANCELED (eBay restores the listing's quantity itself)."""
    order_id = order.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        raise ValueError("order without orderId")
    raw_lines = order.get("lineItems")
    lines = (
        tuple(_line(n) for n in raw_lines if isinstance(n, dict))
        if isinstance(raw_lines, list)
        else ()
    )
    events = [
        _event(ChannelEventType.ORDER_PLACED, account, order_id, order.get("creationDate"), lines)
    ]
    cancel = order.get("cancelStatus")
    if isinstance(cancel, dict) and cancel.get("cancelState") == "CANCELED":
        at = cancel.get("cancelledDate") or order.get("lastModifiedDate")
        events.append(_event(ChannelEventType.ORDER_CANCELLED, account, order_id, at, lines))
    return events


def _line(node: Obj) -> OrderLine:
    ids = {}
    if node.get("legacyItemId"):
        ids[LISTING_ID] = str(node["legacyItemId"])
    if node.get("legacyVariationId"):
        ids[VARIATION_ID] = str(node["legacyVariationId"])
    sku = node.get("sku")
    return OrderLine(
        line_id=str(node.get("lineItemId")),
        quantity=int(str(node.get("quantity"))),
        sku=Sku(sku) if isinstance(sku, str) and sku else None,
        external_ids=ids,
    )


def _event(
    kind: ChannelEventType,
    account: AccountId,
    order_id: str,
    at: object,
    lines: tuple[OrderLine, ...],
) -> ChannelEvent:
    return ChannelEvent(
        kind=kind,
        account=account,
        occurred_at=parse_time(at),
        order_id=order_id,
        lines=lines,
        dedupe_key=f"ebay:{account}:order:{order_id}:{kind.value}",
    )
