"""The rules by which each ledger event changes a Balance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings

from omnistock.domain.balance import (
    ZERO,
    Balance,
    Rejection,
    RejectionCode,
    ReservationPolicy,
    apply,
    check,
)
from omnistock.domain.errors import InvalidInputError
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
from omnistock.domain.ids import LocationId, Sku
from tests.unit.domain import strategies as s

REJECT = ReservationPolicy.REJECT
BACKORDER = ReservationPolicy.BACKORDER
BOTH = [REJECT, BACKORDER]

_C: dict[str, Any] = {
    "idempotency_key": "k",
    "sku": Sku("S"),
    "location": LocationId("L"),
    "source": "t",
    "occurred_at": datetime(2024, 1, 1, tzinfo=UTC),
}


def received(q: int) -> StockReceived:
    return StockReceived(**_C, quantity=q)


def adjusted(q: int) -> StockAdjusted:
    return StockAdjusted(**_C, quantity=q, reason="r")


def counted(q: int) -> StockCounted:
    return StockCounted(**_C, quantity=q)


def reserved(q: int) -> StockReserved:
    return StockReserved(**_C, quantity=q, order_line="o")


def released(q: int) -> StockReleased:
    return StockReleased(**_C, quantity=q, order_line="o")


def fulfilled(q: int) -> StockFulfilled:
    return StockFulfilled(**_C, quantity=q, order_line="o")


def returned(q: int, restock: bool) -> StockReturned:
    return StockReturned(**_C, quantity=q, restock=restock)


def code(balance: Balance, event: LedgerEvent, policy: ReservationPolicy) -> RejectionCode | None:
    rejection = check(balance, event, policy)
    return None if rejection is None else rejection.code


def test_balance_defaults_and_available() -> None:
    assert Balance(0, 0) == ZERO
    assert ZERO.available == 0
    assert Balance(10, 3).available == 7
    assert Balance(2, 5).available == -3
    assert Balance(on_hand=4, reserved=1) == Balance(4, 1)


def test_enums() -> None:
    assert [p.value for p in ReservationPolicy] == ["reject", "backorder"]
    assert [c.value for c in RejectionCode] == [
        "insufficient_stock",
        "negative_on_hand",
        "uncovered_reservations",
        "nothing_reserved",
        "derived_stock",
        "out_of_range",
        "group_rejected",
    ]


# --- received / counted / returned: always allowed ----------------------------------------


@pytest.mark.parametrize("policy", BOTH)
def test_received_adds_on_hand(policy: ReservationPolicy) -> None:
    before = Balance(5, 2)
    assert check(before, received(4), policy) is None
    assert apply(before, received(4)) == Balance(9, 2)


@pytest.mark.parametrize("policy", BOTH)
@pytest.mark.parametrize(
    ("before", "count", "after"),
    [
        (Balance(5, 2), 7, Balance(7, 2)),
        (Balance(5, 2), 0, Balance(0, 2)),  # a shortage found by a count: reserved stays
        (ZERO, 3, Balance(3, 0)),
    ],
)
def test_counted_sets_on_hand(
    policy: ReservationPolicy, before: Balance, count: int, after: Balance
) -> None:
    assert check(before, counted(count), policy) is None
    assert apply(before, counted(count)) == after


@pytest.mark.parametrize("policy", BOTH)
def test_returned_with_restock_adds_on_hand(policy: ReservationPolicy) -> None:
    assert check(Balance(1, 1), returned(3, True), policy) is None
    assert apply(Balance(1, 1), returned(3, True)) == Balance(4, 1)


@pytest.mark.parametrize("policy", BOTH)
def test_returned_without_restock_changes_nothing(policy: ReservationPolicy) -> None:
    before = Balance(1, 1)
    assert check(before, returned(3, False), policy) is None
    assert apply(before, returned(3, False)) == before


def test_return_only_restocks_a_stock_returned_event() -> None:
    # `apply` trusts the type tag; an event tagged returned that is not a StockReturned
    # (it carries no restock flag) is recorded without moving stock.
    class Tagged(StockReceived):
        type = StockReturned.type

    assert apply(Balance(1, 0), Tagged(**_C, quantity=5)) == Balance(1, 0)


def test_unknown_event_type_is_not_applied() -> None:
    class Bogus(StockReceived):
        type = "teleported"  # type: ignore[assignment]

    event = Bogus(**_C, quantity=5)
    assert check(Balance(1, 0), event, REJECT) is None
    with pytest.raises(InvalidInputError) as info:
        apply(Balance(1, 0), event)
    assert info.value.field == "type"


# --- adjusted -----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", BOTH)
def test_adjusted_up(policy: ReservationPolicy) -> None:
    assert check(Balance(0, 4), adjusted(2), policy) is None  # even when below reserved
    assert apply(Balance(0, 4), adjusted(2)) == Balance(2, 4)


@pytest.mark.parametrize("policy", BOTH)
def test_adjusted_down_within_free_stock(policy: ReservationPolicy) -> None:
    assert check(Balance(10, 4), adjusted(-6), policy) is None
    assert apply(Balance(10, 4), adjusted(-6)) == Balance(4, 4)


@pytest.mark.parametrize("policy", BOTH)
@pytest.mark.parametrize(
    ("before", "delta"), [(Balance(3, 0), -4), (ZERO, -1), (Balance(3, 9), -4)]
)
def test_adjusted_below_zero_rejected(
    policy: ReservationPolicy, before: Balance, delta: int
) -> None:
    rejection = check(before, adjusted(delta), policy)
    assert rejection == Rejection(
        RejectionCode.NEGATIVE_ON_HAND,
        f"on hand {before.on_hand} cannot change by {delta}",
    )


@pytest.mark.parametrize("policy", BOTH)
def test_adjusted_to_exactly_zero_allowed_without_reservations(policy: ReservationPolicy) -> None:
    assert check(Balance(3, 0), adjusted(-3), policy) is None
    assert apply(Balance(3, 0), adjusted(-3)) == ZERO


def test_adjusted_down_under_reserved_rejected_under_reject() -> None:
    rejection = check(Balance(10, 4), adjusted(-7), REJECT)
    assert rejection == Rejection(
        RejectionCode.UNCOVERED_RESERVATIONS,
        "on hand 3 after the change would not cover 4 reserved",
    )


def test_adjusted_down_under_reserved_allowed_under_backorder() -> None:
    assert check(Balance(10, 4), adjusted(-7), BACKORDER) is None
    assert apply(Balance(10, 4), adjusted(-7)) == Balance(3, 4)


def test_adjusted_up_when_already_uncovered_allowed_under_reject() -> None:
    # A positive delta never uncovers more reservations, even if it does not cure them.
    assert check(Balance(1, 5), adjusted(1), REJECT) is None


# --- reserved -----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", BOTH)
def test_reserved_within_available(policy: ReservationPolicy) -> None:
    assert check(Balance(5, 2), reserved(3), policy) is None
    assert apply(Balance(5, 2), reserved(3)) == Balance(5, 5)


def test_reserved_beyond_available_rejected_under_reject() -> None:
    rejection = check(Balance(5, 2), reserved(4), REJECT)
    assert rejection == Rejection(RejectionCode.INSUFFICIENT_STOCK, "requested 4, available 3")


def test_reserved_with_negative_available_rejected_under_reject() -> None:
    assert code(Balance(1, 3), reserved(1), REJECT) is RejectionCode.INSUFFICIENT_STOCK


def test_reserved_beyond_available_backordered() -> None:
    assert check(Balance(5, 2), reserved(4), BACKORDER) is None
    after = apply(Balance(5, 2), reserved(4))
    assert after == Balance(5, 6)
    assert after.available == -1


# --- released -----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", BOTH)
def test_released_returns_reserved_units(policy: ReservationPolicy) -> None:
    assert check(Balance(5, 3), released(3), policy) is None
    assert apply(Balance(5, 3), released(3)) == Balance(5, 0)


@pytest.mark.parametrize("policy", BOTH)
def test_released_more_than_reserved_rejected(policy: ReservationPolicy) -> None:
    rejection = check(Balance(5, 2), released(3), policy)
    assert rejection == Rejection(RejectionCode.NOTHING_RESERVED, "3 requested, only 2 reserved")


# --- fulfilled ----------------------------------------------------------------------------


@pytest.mark.parametrize("policy", BOTH)
def test_fulfilled_leaves_reserved_and_on_hand(policy: ReservationPolicy) -> None:
    assert check(Balance(5, 3), fulfilled(2), policy) is None
    after = apply(Balance(5, 3), fulfilled(2))
    assert after == Balance(3, 1)
    assert after.available == Balance(5, 3).available


@pytest.mark.parametrize("policy", BOTH)
def test_fulfilled_more_than_reserved_rejected(policy: ReservationPolicy) -> None:
    assert code(Balance(5, 1), fulfilled(2), policy) is RejectionCode.NOTHING_RESERVED


@pytest.mark.parametrize("policy", BOTH)
def test_fulfilled_more_than_on_hand_rejected(policy: ReservationPolicy) -> None:
    rejection = check(Balance(1, 3), fulfilled(2), policy)
    assert rejection == Rejection(RejectionCode.NEGATIVE_ON_HAND, "cannot ship 2, only 1 on hand")


@pytest.mark.parametrize("policy", BOTH)
def test_fulfilled_checks_reserved_before_on_hand(policy: ReservationPolicy) -> None:
    assert code(ZERO, fulfilled(1), policy) is RejectionCode.NOTHING_RESERVED


# --- properties ---------------------------------------------------------------------------


@given(s.any_balances, s.stream_event(), s.reservation_policies)
@settings(max_examples=100, deadline=None)
def test_checked_events_keep_on_hand_non_negative(
    before: Balance, event: LedgerEvent, policy: ReservationPolicy
) -> None:
    if check(before, event, policy) is None:
        after = apply(before, event)
        assert after.on_hand >= 0
        assert after.reserved >= 0
    else:
        assert event.type in {"adjusted", "reserved", "released", "fulfilled"}


@given(s.balances, s.stream_event())
@settings(max_examples=300, deadline=None)
def test_reject_keeps_a_covered_balance_covered(before: Balance, event: LedgerEvent) -> None:
    # Under reject every event but a count keeps reserved <= on hand.
    if event.type != "counted" and check(before, event, REJECT) is None:
        after = apply(before, event)
        assert 0 <= after.reserved <= after.on_hand


@given(s.any_balances, s.stream_event())
@settings(max_examples=100, deadline=None)
def test_apply_is_pure_arithmetic(before: Balance, event: LedgerEvent) -> None:
    after = apply(before, event)
    q = event.quantity
    expected = {
        "received": Balance(before.on_hand + q, before.reserved),
        "adjusted": Balance(before.on_hand + q, before.reserved),
        "counted": Balance(q, before.reserved),
        "reserved": Balance(before.on_hand, before.reserved + q),
        "released": Balance(before.on_hand, before.reserved - q),
        "fulfilled": Balance(before.on_hand - q, before.reserved - q),
        "returned": Balance(
            before.on_hand + (q if isinstance(event, StockReturned) and event.restock else 0),
            before.reserved,
        ),
    }[event.type]
    assert after == expected
