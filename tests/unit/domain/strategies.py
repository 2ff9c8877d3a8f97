"""Hypothesis strategies for the pure domain core: events, balances, policies, streams."""

from __future__ import annotations

import functools
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.balance import Balance, ReservationPolicy
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
from omnistock.domain.ids import MAX_QUANTITY, AccountId, LocationId, Sku

_ID_CHARS = string.ascii_letters + string.digits + "-_.:/ "

#: A well-formed identifier: printable, no surrounding blanks, 1..24 characters.
identifiers = st.text(alphabet=_ID_CHARS, min_size=1, max_size=24).filter(lambda s: s == s.strip())

#: A timezone-aware datetime with a fixed offset in (-24 h, 24 h).
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 2),  # noqa: DTZ001 - bounds of a naive range, tz added below
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.one_of(st.just(UTC), offsets),
)

quantities = st.integers(min_value=1, max_value=MAX_QUANTITY)
counts = st.integers(min_value=0, max_value=MAX_QUANTITY)
deltas = st.one_of(
    st.integers(min_value=1, max_value=MAX_QUANTITY),
    st.integers(min_value=-MAX_QUANTITY, max_value=-1),
)


def _common(quantity: st.SearchStrategy[int]) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "idempotency_key": identifiers,
        "sku": identifiers.map(Sku),
        "location": identifiers.map(LocationId),
        "quantity": quantity,
        "source": identifiers,
        "occurred_at": aware_datetimes,
    }


#: An optional identifier, with the literal text "None" drawn often (it must not pass for None).
optional_identifiers = st.none() | st.just("None") | identifiers

received_events = st.builds(StockReceived, **_common(quantities))
adjusted_events = st.builds(StockAdjusted, **_common(deltas), reason=identifiers)
counted_events = st.builds(StockCounted, **_common(counts))
reserved_events = st.builds(
    StockReserved,
    **_common(quantities),
    order_line=identifiers,
    account=optional_identifiers.map(lambda a: None if a is None else AccountId(a)),
)
released_events = st.builds(StockReleased, **_common(quantities), order_line=identifiers)
fulfilled_events = st.builds(StockFulfilled, **_common(quantities), order_line=identifiers)
returned_events = st.builds(
    StockReturned,
    **_common(quantities),
    restock=st.booleans(),
    order_line=optional_identifiers,
)

#: Any valid ledger event of any type.
ledger_events: st.SearchStrategy[LedgerEvent] = st.one_of(
    received_events,
    adjusted_events,
    counted_events,
    reserved_events,
    released_events,
    fulfilled_events,
    returned_events,
)

balances = st.integers(min_value=0, max_value=10_000).flatmap(
    lambda on_hand: st.builds(
        Balance, on_hand=st.just(on_hand), reserved=st.integers(min_value=0, max_value=on_hand)
    )
)

#: Balances that may already be inconsistent (a count left reserved above on hand).
any_balances = st.builds(
    Balance,
    on_hand=st.integers(min_value=0, max_value=10_000),
    reserved=st.integers(min_value=0, max_value=10_000),
)

reservation_policies = st.sampled_from(list(ReservationPolicy))

LOCATIONS = (LocationId("wh-1"), LocationId("wh-2"), LocationId("shop"))

policies = st.builds(
    AllocationPolicy,
    safety_buffer=st.integers(min_value=0, max_value=50),
    share=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    max_shown=st.none() | st.integers(min_value=0, max_value=500),
    zero_below=st.integers(min_value=0, max_value=20),
    locations=st.none() | st.frozensets(st.sampled_from(LOCATIONS), min_size=1),
    low_stock=st.integers(min_value=0, max_value=10),
)

#: Availability per location, negative values included (counts can leave reserved > on hand).
availabilities = st.dictionaries(
    st.sampled_from((*LOCATIONS, LocationId("elsewhere"))),
    st.integers(min_value=-100, max_value=1_000),
)

# --- streams of events over a small universe, so that events interact -------------------

STREAM_SKUS = (Sku("A"), Sku("B"), Sku("C"))
STREAM_LOCATIONS = (LocationId("wh-1"), LocationId("wh-2"))
_T0 = datetime(2024, 1, 1, tzinfo=UTC)
_small = st.integers(min_value=1, max_value=12)


_STREAM_KINDS = ("received", "adjusted", "counted", "reserved", "released", "fulfilled", "returned")


def _stream_kind(kind: str, skus: tuple[Sku, ...]) -> st.SearchStrategy[LedgerEvent]:
    common: dict[str, st.SearchStrategy[Any]] = {
        "idempotency_key": st.integers(0, 99).map(lambda n: f"k-{n}"),
        "sku": st.sampled_from(skus),
        "location": st.sampled_from(STREAM_LOCATIONS),
        "source": st.just("test"),
        "occurred_at": st.just(_T0),
    }
    line = st.just("ol")
    match kind:
        case "received":
            return st.builds(StockReceived, **common, quantity=_small)
        case "adjusted":
            delta = st.integers(min_value=-12, max_value=12).filter(bool)
            return st.builds(StockAdjusted, **common, quantity=delta, reason=st.just("fix"))
        case "counted":
            return st.builds(StockCounted, **common, quantity=st.integers(0, 20))
        case "reserved":
            return st.builds(StockReserved, **common, quantity=_small, order_line=line)
        case "released":
            return st.builds(StockReleased, **common, quantity=_small, order_line=line)
        case "fulfilled":
            return st.builds(StockFulfilled, **common, quantity=_small, order_line=line)
        case _:
            return st.builds(StockReturned, **common, quantity=_small, restock=st.booleans())


@functools.cache
def stream_event(
    kinds: tuple[str, ...] = _STREAM_KINDS, skus: tuple[Sku, ...] = STREAM_SKUS
) -> st.SearchStrategy[LedgerEvent]:
    """One event on a small universe of SKUs and locations, with small quantities."""
    return st.one_of([_stream_kind(kind, skus) for kind in kinds])


@functools.cache
def streams(
    kinds: tuple[str, ...] = _STREAM_KINDS,
    skus: tuple[Sku, ...] = STREAM_SKUS,
    max_size: int = 25,
) -> st.SearchStrategy[list[LedgerEvent]]:
    """Lists of interacting events (by default of all seven kinds)."""
    return st.lists(stream_event(kinds, skus), max_size=max_size)
