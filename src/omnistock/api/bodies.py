"""Request bodies of the event API, validated strictly, and their ledger events.

One event, or `{"events": [...]}`; each event names its type and the fields that type has."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeAlias, TypedDict

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


def to_events(request: EventBatch | _Event, key: str, source: str) -> list[LedgerEvent]:
    """The ledger events of a request; event i gets the idempotency key `key:i`."""
    bodies = request.events if isinstance(request, EventBatch) else [request]
    return [_event(body, f"{key}:{i}", source) for i, body in enumerate(bodies)]


class _Common(TypedDict):
    idempotency_key: str
    sku: Sku
    location: LocationId
    quantity: int
    source: str
    occurred_at: datetime


def _event(body: _Event, key: str, source: str) -> LedgerEvent:
    common = _Common(
        idempotency_key=key,
        sku=Sku(body.sku),
        location=LocationId(body.location),
        quantity=body.quantity,
        source=body.source or source,
        occurred_at=body.occurred_at,
    )
    match body:
        case Received():
            return StockReceived(**common)
        case Counted():
            return StockCounted(**common)
        case Adjusted():
            return StockAdjusted(**common, reason=body.reason)
        case Reserved():
            account = None if body.account is None else AccountId(body.account)
            return StockReserved(**common, order_line=body.order_line, account=account)
        case Released():
            return StockReleased(**common, order_line=body.order_line)
        case Fulfilled():
            return StockFulfilled(**common, order_line=body.order_line)
        case Returned():
            return StockReturned(**common, restock=body.restock, order_line=body.order_line)
    raise AssertionError(f"unhandled event body {type(body).__name__}")
