"""Inbox payloads: channel events and ledger events survive the JSON round trip; garbage
is refused with InvalidInputError (the item is then retried and parked, not dropped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.bus.inbox import InboxKind
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import LedgerEvent, StockAdjusted, StockReserved, StockReturned
from omnistock.domain.ids import AccountId, LocationId, Sku
from omnistock.ingest.codec import (
    channel_message,
    decode_channel_event,
    decode_ledger_events,
    encode_channel_event,
    encode_ledger_events,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))


def test_a_channel_event_round_trips() -> None:
    event = ChannelEvent(
        kind=ChannelEventType.ORDER_REFUNDED,
        account=AccountId("shop"),
        dedupe_key="woo:1:refunded",
        occurred_at=T0,
        order_id="1",
        lines=(
            OrderLine(line_id="5", quantity=2, sku=Sku("A"), external_ids={"product_id": "9"}),
            OrderLine(line_id="6", quantity=1),
        ),
        restock=False,
    )
    assert decode_channel_event(encode_channel_event(event)) == event
    message = channel_message(event)
    assert (message.kind, message.account, message.dedupe_key) == (
        InboxKind.CHANNEL_EVENT,
        "shop",
        "woo:1:refunded",
    )


def test_ledger_events_round_trip() -> None:
    a, wh = Sku("A"), LocationId("wh1")
    events: list[LedgerEvent] = [
        StockReserved(
            idempotency_key="r",
            sku=a,
            location=wh,
            quantity=2,
            source="api",
            occurred_at=T0,
            order_line="o:1",
        ),
        StockAdjusted(
            idempotency_key="a",
            sku=a,
            location=wh,
            quantity=-3,
            source="api",
            occurred_at=T0,
            reason="damaged",
        ),
        StockReturned(
            idempotency_key="t",
            sku=a,
            location=wh,
            quantity=1,
            source="api",
            occurred_at=T0,
            restock=True,
        ),
    ]
    assert decode_ledger_events(encode_ledger_events(events)) == events


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "{}",
        '{"kind": "order_exploded", "account": "a", "dedupe_key": "k",'
        ' "occurred_at": "2026-05-01T12:00:00+00:00"}',
        '{"kind": "order_placed", "account": "a", "dedupe_key": "k",'
        ' "occurred_at": "2026-05-01T12:00:00"}',
    ],
)
def test_a_malformed_channel_event_is_refused(payload: str) -> None:
    with pytest.raises(InvalidInputError):
        decode_channel_event(payload)


def test_malformed_ledger_events_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="events"):
        decode_ledger_events('{"events": [{"type": "received"}]}')
    with pytest.raises(InvalidInputError):
        decode_ledger_events(f'{{"events": [], "at": "{datetime.now(UTC).isoformat()}"}}')
