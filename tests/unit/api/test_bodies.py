"""The event API's two parsers agree: what msgspec decodes, pydantic (the schema's
authority) accepts with the same values; what msgspec refuses, pydantic decides."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from omnistock.api.bodies import (
    _DECODE_BATCH,
    _FINE_FRACTION,
    REQUEST,
    EventBatch,
    parse,
    to_events,
)
from omnistock.domain.events import LedgerEvent, StockReceived, StockReturned

# RFC 3339 and its near misses: separators, cases, fractions of every length (msgspec
# rounds past 6 digits, pydantic truncates), offsets with and without colons, out of range.
_DATES = st.sampled_from(["2026-11-01", "1999-12-31", "0000-01-01", "2026-02-30", "2026-1-01"])
_SEPARATORS = st.sampled_from(["T", "t", " ", "_", ""])
_TIMES = st.sampled_from(["00:00:00", "23:59:59", "23:59:60", "24:00:00", "12:30", "7:00:00"])
_FRACTIONS = st.one_of(
    st.just(""),
    st.just("."),
    st.text("0123456789", min_size=1, max_size=12).map(lambda d: f".{d}"),
    st.just(",5"),
)
_OFFSETS = st.sampled_from(
    ["Z", "z", "+00:00", "-00:00", "+02:00", "+0200", "+02", "-23:59", "+24:00", "", "+05:30"]
)
_DATETIMES = st.one_of(
    st.builds(
        lambda d, s, t, f, o: f"{d}{s}{t}{f}{o}", _DATES, _SEPARATORS, _TIMES, _FRACTIONS, _OFFSETS
    ),
    st.integers(0, 2_000_000_000),
    st.none(),
)
_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=5),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
)
_TYPES = ["received", "counted", "adjusted", "reserved", "released", "fulfilled", "returned"]
_SPECIFIC = {
    "adjusted": ["reason"],
    "reserved": ["order_line", "account"],
    "released": ["order_line"],
    "fulfilled": ["order_line"],
    "returned": ["restock", "order_line"],
}


@st.composite
def _event(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([*_TYPES, "teleported"]))
    event: dict[str, Any] = {
        "type": kind,
        "sku": draw(st.one_of(st.just("SKU1"), _VALUES)),
        "location": "wh1",
        "quantity": draw(st.one_of(st.integers(-5, 2**40), _VALUES)),
        "occurred_at": draw(_DATETIMES),
    }
    for name in _SPECIFIC.get(kind, []):
        good = draw(st.booleans()) if name == "restock" else "L1"
        event[name] = draw(st.one_of(st.just(good), _VALUES))
    if draw(st.booleans()):
        event["source"] = draw(st.one_of(st.just("erp"), _VALUES))
    for name in draw(st.lists(st.sampled_from([*event, "extra"]), max_size=2)):
        if draw(st.booleans()):
            event.pop(name, None)
        else:
            event[name] = draw(_VALUES)
    return event


def _batch(events: list[dict[str, Any]]) -> bytes:
    return json.dumps({"events": events}).encode()


def _as_events(body: bytes) -> list[LedgerEvent]:
    return to_events(parse(body), "api:k", source="api:t")


def _same(a: list[LedgerEvent], b: list[LedgerEvent]) -> None:
    assert a == b
    # Equal datetimes may differ in offset; the stored event keeps the offset given.
    assert [e.occurred_at.isoformat() for e in a] == [e.occurred_at.isoformat() for e in b]


def _by_pydantic(body: bytes) -> list[LedgerEvent]:
    parsed = REQUEST.validate_json(body)
    bodies = parsed.events if isinstance(parsed, EventBatch) else [parsed]
    # Each pydantic body as the struct of its type (parse() may have taken msgspec's path).
    converted = [
        msgspec.convert(b.model_dump(), type(one))
        for b, one in zip(bodies, parse(body), strict=True)
    ]
    return to_events(converted, "api:k", source="api:t")


_VALID = {"type": "received", "sku": "SKU1", "location": "wh1", "quantity": 0,
          "occurred_at": "2026-11-01T00:00:00Z"}  # fmt: skip


@given(st.lists(_event(), min_size=1, max_size=3))
@example([_VALID, _VALID])  # a batch of valid events keeps each one's own key
@settings(max_examples=600, deadline=None)
def test_msgspec_accepts_only_what_pydantic_accepts_with_the_same_values(
    events: list[dict[str, Any]],
) -> None:
    body = _batch(events)
    try:
        fast = _DECODE_BATCH.decode(body).events
    except msgspec.DecodeError:
        fast = None
    try:
        REQUEST.validate_json(body)
    except ValidationError:
        assert fast is None or _long_fraction(body)
        with pytest.raises(ValidationError):
            parse(body)
        return
    _same(_as_events(body), _by_pydantic(body))


def _long_fraction(body: bytes) -> bool:
    # parse() sends these to pydantic whatever msgspec would say (it rounds them).
    return _FINE_FRACTION.search(body) is not None


def _received(occurred_at: str) -> dict[str, Any]:
    return {
        "type": "received",
        "sku": "A",
        "location": "l",
        "quantity": 1,
        "occurred_at": occurred_at,
    }


def test_fractions_past_microseconds_are_truncated_as_pydantic_does() -> None:
    body = _batch([_received("2026-11-01T00:00:00.1234567Z")])
    [event] = _as_events(body)
    assert event.occurred_at == datetime.fromisoformat("2026-11-01T00:00:00.123456+00:00")


def test_one_event_without_a_batch_is_parsed_by_pydantic_the_same_way() -> None:
    one = {
        "type": "returned",
        "sku": "A",
        "location": "l",
        "quantity": 2,
        "restock": False,
        "occurred_at": "2026-11-01T10:00:00+02:00",
    }
    [single] = _as_events(json.dumps(one).encode())
    [batched] = _as_events(_batch([one]))
    assert isinstance(single, StockReturned)
    _same([single], [batched])


def test_refused_bodies_raise_pydantics_error_naming_every_problem() -> None:
    body = _batch(
        [
            {"type": "received", "sku": 5, "location": "l", "quantity": 1, "occurred_at": "x"},
            {
                "type": "received",
                "sku": "A",
                "location": "l",
                "quantity": 1.5,
                "occurred_at": "2026-11-01T00:00:00Z",
            },
        ]
    )
    with pytest.raises(ValidationError) as info:
        parse(body)
    fields = {".".join(map(str, e["loc"])) for e in info.value.errors()}
    for problem in (
        "events.0.received.sku",
        "events.0.received.occurred_at",
        "events.1.received.quantity",
    ):
        assert any(field.endswith(problem) for field in fields), fields


def test_the_source_defaults_to_the_callers() -> None:
    body = _batch([_received("2026-11-01T00:00:00Z")])
    [event] = _as_events(body)
    assert isinstance(event, StockReceived)
    assert event.source == "api:t"
    assert event.idempotency_key == "api:k:0"
