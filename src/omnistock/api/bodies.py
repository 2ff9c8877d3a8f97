"""Request bodies of the event API, validated strictly, and their ledger events.

One event, or `{"events": [...]}`; each event names its type and the fields that type has.
The schema is pydantic's (below); batches are decoded by msgspec where it agrees (see
`parse`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, TypeAlias, TypedDict

import msgspec
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from omnistock.domain.events import (
    LedgerEvent,
    StockAdjusted,
    StockCounted,
    StockFulfilled,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
)
from omnistock.domain.ids import AccountId, LocationId, Sku

MAX_EVENTS_PER_REQUEST = 1_000


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    sku: str
    location: str
    quantity: int
    occurred_at: AwareDatetime
    source: str | None = None


class Received(_Event):
    type: Literal["received"]


class Counted(_Event):
    type: Literal["counted"]


class Adjusted(_Event):
    type: Literal["adjusted"]
    reason: str


class Reserved(_Event):
    type: Literal["reserved"]
    order_line: str
    account: str | None = None


class Released(_Event):
    type: Literal["released"]
    order_line: str


class Fulfilled(_Event):
    type: Literal["fulfilled"]
    order_line: str


class Returned(_Event):
    type: Literal["returned"]
    restock: bool
    order_line: str | None = None


EventBody: TypeAlias = Annotated[
    Received | Counted | Adjusted | Reserved | Released | Fulfilled | Returned,
    Field(discriminator="type"),
]


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    events: list[EventBody] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


REQUEST = TypeAdapter(EventBatch | EventBody)


# The same schema for msgspec, which decodes a 1,000-event batch in 0.23 µs an event against
# pydantic's 1.7 (on the event loop, which the append's thread needs too). Pydantic stays
# the schema's authority: a body msgspec refuses goes to pydantic, which names every
# problem (the 422's details) or, where msgspec is merely stricter (a few datetime
# spellings RFC 3339 does not allow), accepts it. A body msgspec accepts, pydantic accepts
# with the same values (tests/unit/api/test_bodies.py); the one known exception is
# rounding of more than 6 fractional digits of a second (pydantic truncates), so such
# bodies skip msgspec.
_AwareDatetime: TypeAlias = Annotated[datetime, msgspec.Meta(tz=True)]


class _Fast(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    sku: str
    location: str
    quantity: int
    occurred_at: _AwareDatetime
    source: str | None = None


class _FastReceived(_Fast, frozen=True, tag="received"):
    pass


class _FastCounted(_Fast, frozen=True, tag="counted"):
    pass


class _FastAdjusted(_Fast, frozen=True, tag="adjusted"):
    reason: str


class _FastReserved(_Fast, frozen=True, tag="reserved"):
    order_line: str
    account: str | None = None


class _FastReleased(_Fast, frozen=True, tag="released"):
    order_line: str


class _FastFulfilled(_Fast, frozen=True, tag="fulfilled"):
    order_line: str


class _FastReturned(_Fast, frozen=True, tag="returned"):
    restock: bool
    order_line: str | None = None


_FastBody: TypeAlias = (
    _FastReceived
    | _FastCounted
    | _FastAdjusted
    | _FastReserved
    | _FastReleased
    | _FastFulfilled
    | _FastReturned
)


class _FastBatch(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[
        list[_FastBody], msgspec.Meta(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)
    ]


_DECODE_BATCH = msgspec.json.Decoder(_FastBatch)
_FINE_FRACTION = re.compile(rb"\.[0-9]{7}")  # msgspec rounds past 6 digits, pydantic truncates


def parse(body: bytes) -> list[_FastBody]:
    """The event bodies of a request (a batch, or one event). Raises pydantic's
    ValidationError naming every problem of a body that does not match the schema."""
    if _FINE_FRACTION.search(body) is None:
        try:
            return _DECODE_BATCH.decode(body).events
        except msgspec.DecodeError:  # refused (or one event): pydantic says why, or accepts it
            pass
    parsed = REQUEST.validate_json(body)
    bodies = parsed.events if isinstance(parsed, EventBatch) else [parsed]
    # Values pydantic has validated: msgspec takes them as they are (datetimes included).
    return [msgspec.convert(b.model_dump(), _FastBody) for b in bodies]


def to_events(bodies: list[_FastBody], key: str, source: str) -> list[LedgerEvent]:
    """The ledger events of a request's bodies; event i gets the idempotency key `key:i`."""
    return [_event(body, f"{key}:{i}", source) for i, body in enumerate(bodies)]


class _Common(TypedDict):
    idempotency_key: str
    sku: Sku
    location: LocationId
    quantity: int
    source: str
    occurred_at: datetime


def _event(body: _FastBody, key: str, source: str) -> LedgerEvent:
    common = _Common(
        idempotency_key=key,
        sku=Sku(body.sku),
        location=LocationId(body.location),
        quantity=body.quantity,
        source=body.source or source,
        occurred_at=body.occurred_at,
    )
    match body:
        case _FastReceived():
            return StockReceived(**common)
        case _FastCounted():
            return StockCounted(**common)
        case _FastAdjusted():
            return StockAdjusted(**common, reason=body.reason)
        case _FastReserved():
            account = None if body.account is None else AccountId(body.account)
            return StockReserved(**common, order_line=body.order_line, account=account)
        case _FastReleased():
            return StockReleased(**common, order_line=body.order_line)
        case _FastFulfilled():
            return StockFulfilled(**common, order_line=body.order_line)
        case _FastReturned():
            return StockReturned(**common, restock=body.restock, order_line=body.order_line)
    raise AssertionError(f"unhandled event body {type(body).__name__}")
