"""Shopify orders and webhooks, pure: the orders polling cursor, and the normalisation of
polled orders and signed webhook deliveries into ChannelEvents."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify.wire import (
    INVENTORY_ITEM_ID,
    LINES_PAGE,
    LOCATION_ID,
    ORDERS_PAGE,
    VARIANT_ID,
    legacy_id,
)
from omnistock.domain.errors import InvalidInputError, WebhookRejectedError
from omnistock.domain.ids import AccountId, Sku

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Obj = Mapping[str, object]


def parse_time(text: object) -> datetime:
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- polling ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCursor:
    """Orders updated after `after`, sorted by updated_at; `page` is Shopify's endCursor
    inside that query, `high` the latest updatedAt seen in it."""

    after: datetime
    page: str | None = None
    high: datetime | None = None

    def encode(self) -> str:
        doc = {
            "v": 1,
            "after": self.after.isoformat(),
            "page": self.page,
            "high": None if self.high is None else self.high.isoformat(),
        }
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()

    @classmethod
    def decode(cls, cursor: str) -> PollCursor:
        try:
            doc = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            high = doc.get("high")
            return cls(
                after=parse_time(doc["after"]),
                page=doc.get("page"),
                high=None if high is None else parse_time(high),
            )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise InvalidInputError("cursor", "not a Shopify orders cursor") from exc


def orders_variables(cursor: PollCursor) -> dict[str, object]:
    after = cursor.after.isoformat().replace("+00:00", "Z")
    return {
        "first": ORDERS_PAGE,
        "after": cursor.page,
        "lines": LINES_PAGE,
        "query": f"updated_at:>'{after}'",
    }


def next_cursor(
    cursor: PollCursor, updated: Sequence[datetime], end: str | None, more: bool, overlap: timedelta
) -> PollCursor:
    """Pure: page on inside the query while there is more; then restart the query from
    the high-water mark minus `overlap` (equal timestamps and skew cost duplicates only)."""
    high = max([*updated, *([cursor.high] if cursor.high else [])], default=None)
    if more:
        return PollCursor(after=cursor.after, page=end, high=high)
    if high is None:
        return PollCursor(after=cursor.after)
    return PollCursor(after=max(cursor.after, high - overlap))


def order_events(order: Obj, account: AccountId) -> list[ChannelEvent]:
    """A polled Order node as ORDER_PLACED, plus ORDER_CANCELLED once it is cancelled."""
    order_id = legacy_id(order.get("id"))
    if order_id is None:
        raise ValueError("order without id")
    location = _order_location(order)
    lines = tuple(_polled_line(n, location) for n in _nodes(order.get("lineItems")))
    events = [
        _event(
            ChannelEventType.ORDER_PLACED,
            account,
            order_id,
            parse_time(order.get("createdAt")),
            lines,
        )
    ]
    if order.get("cancelledAt"):
        events.append(
            _event(
                ChannelEventType.ORDER_CANCELLED,
                account,
                order_id,
                parse_time(order.get("cancelledAt")),
                lines,
            )
        )
    return events


def _order_location(order: Obj) -> str | None:
    for node in _nodes(order.get("fulfillmentOrders")):
        assigned = node.get("assignedLocation")
        location = assigned.get("location") if isinstance(assigned, dict) else None
        if isinstance(location, dict):
            return legacy_id(location.get("id"))
    return None


def _polled_line(node: Obj, location: str | None) -> OrderLine:
    ids: dict[str, str] = {}
    variant = node.get("variant")
    if isinstance(variant, dict):
        ids[VARIANT_ID] = legacy_id(variant.get("id")) or ""
        item = variant.get("inventoryItem")
        if isinstance(item, dict) and legacy_id(item.get("id")):
            ids[INVENTORY_ITEM_ID] = legacy_id(item.get("id")) or ""
    if location is not None:
        ids[LOCATION_ID] = location
    sku = node.get("sku")
    return OrderLine(
        line_id=legacy_id(node.get("id")) or "",
        quantity=int(str(node.get("quantity"))),
        sku=Sku(sku) if isinstance(sku, str) and sku else None,
        external_ids=ids,
    )


def _nodes(connection: object) -> list[Obj]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _event(
    kind: ChannelEventType,
    account: AccountId,
    order_id: str,
    at: datetime,
    lines: tuple[OrderLine, ...],
    restock: bool | None = None,
    suffix: str = "",
) -> ChannelEvent:
    return ChannelEvent(
        kind=kind,
        account=account,
        occurred_at=at,
        order_id=order_id,
        lines=lines,
        restock=restock,
        dedupe_key=f"shopify:{account}:order:{order_id}:{kind.value}{suffix}",
    )


# --- webhooks --------------------------------------------------------------------------


def verify(headers: Mapping[str, str], body: bytes, secret: Secret) -> None:
    """X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(client secret, raw body)), constant time."""
    given = _header(headers, "x-shopify-hmac-sha256")
    if not given:
        raise WebhookRejectedError("unsigned webhook")
    digest = hmac.new(secret.reveal().encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest), given.encode()):
        raise WebhookRejectedError("webhook signature does not match")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


class WebhookParser:
    def __init__(self, account: AccountId, secret: Secret) -> None:
        self._account = account
        self._secret = secret

    def parse(self, headers: Mapping[str, str], body: bytes) -> list[ChannelEvent]:
        verify(headers, body, self._secret)
        topic = _header(headers, "x-shopify-topic")
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("payload is not an object")
            return self._events(topic, payload)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejectedError(f"malformed {topic} payload: {exc}", status=400) from None

    def _events(self, topic: str | None, p: dict[str, object]) -> list[ChannelEvent]:
        account = self._account
        if topic == "inventory_levels/update":
            item, location = str(p["inventory_item_id"]), str(p["location_id"])
            return [
                ChannelEvent(
                    kind=ChannelEventType.QUANTITY_CHANGED,
                    account=account,
                    occurred_at=parse_time(p["updated_at"]),
                    quantity=int(str(p["available"])),
                    external_ids={INVENTORY_ITEM_ID: item, LOCATION_ID: location},
                    dedupe_key=f"shopify:{account}:level:{item}@{location}:{p['updated_at']}",
                )
            ]
        if topic in ("orders/create", "orders/cancelled"):
            return [self._order_event(topic, p)]
        if topic == "refunds/create":
            return [self._refund_event(p)]
        return []  # a topic inventory sync does not use: acknowledged, ignored

    def _order_event(self, topic: str, p: dict[str, object]) -> ChannelEvent:
        lines = tuple(_rest_line(line, p.get("location_id")) for line in _list(p["line_items"]))
        if topic == "orders/create":
            return _event(
                ChannelEventType.ORDER_PLACED,
                self._account,
                str(p["id"]),
                parse_time(p["created_at"]),
                lines,
            )
        return _event(
            ChannelEventType.ORDER_CANCELLED,
            self._account,
            str(p["id"]),
            parse_time(p["cancelled_at"]),
            lines,
        )

    def _refund_event(self, p: dict[str, object]) -> ChannelEvent:
        rows = _list(p["refund_line_items"])
        lines = tuple(
            _rest_line({**_dict(r["line_item"]), "quantity": r["quantity"]}, r.get("location_id"))
            for r in rows
        )
        restock = any(r.get("restock_type") not in (None, "no_restock") for r in rows)
        return _event(
            ChannelEventType.ORDER_REFUNDED,
            self._account,
            str(p["order_id"]),
            parse_time(p["created_at"]),
            lines,
            restock,
            suffix=f":{p['id']}",
        )


def _rest_line(line: Mapping[str, object], location: object) -> OrderLine:
    ids = {VARIANT_ID: str(line.get("variant_id"))}
    if location is not None:
        ids[LOCATION_ID] = str(location)
    sku = line.get("sku")
    return OrderLine(
        line_id=str(line["id"]),
        quantity=int(str(line["quantity"])),
        sku=Sku(sku) if isinstance(sku, str) and sku else None,
        external_ids=ids,
    )


def _list(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return [_dict(v) for v in value]


def _dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    return value


def epoch_cursor(start: datetime | None) -> PollCursor:
    return PollCursor(after=start or EPOCH)
