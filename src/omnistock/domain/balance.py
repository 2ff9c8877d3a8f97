"""Balances per SKU and location, and the rules by which each ledger event changes one.

`check` decides whether an event may be applied (a business rule, not bad input);
`apply` is plain arithmetic, so replaying the stored log never re-decides anything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import EventType, LedgerEvent, StockReturned


class ReservationPolicy(StrEnum):
    """What a reservation does when available < quantity."""

    REJECT = "reject"
    BACKORDER = "backorder"


class RejectionCode(StrEnum):
    INSUFFICIENT_STOCK = "insufficient_stock"
    NEGATIVE_ON_HAND = "negative_on_hand"
    UNCOVERED_RESERVATIONS = "uncovered_reservations"
    NOTHING_RESERVED = "nothing_reserved"
    DERIVED_STOCK = "derived_stock"
    OUT_OF_RANGE = "out_of_range"
    GROUP_REJECTED = "group_rejected"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an event was not applied; stored so that a retry gets the same answer."""

    code: RejectionCode
    message: str


@dataclass(frozen=True, slots=True)
class Balance:
    """Stock of one SKU at one location."""

    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


ZERO = Balance()


def check(balance: Balance, event: LedgerEvent, policy: ReservationPolicy) -> Rejection | None:
    """Return why `event` may not be applied to `balance`, or None when it may."""
    q = event.quantity
    match event.type:
        case EventType.RESERVED:
            return _check_reserve(balance, q, policy)
        case EventType.ADJUSTED:
            return _check_adjust(balance, q, policy)
        case EventType.RELEASED:
            return _check_reserved_covers(balance, q)
        case EventType.FULFILLED:
            return _check_reserved_covers(balance, q) or _check_on_hand_covers(balance, q)
        case _:
            return None


def apply(balance: Balance, event: LedgerEvent) -> Balance:
    """The balance after `event`; arithmetic only (see `check` for the rules)."""
    q = event.quantity
    match event.type:
        case EventType.RECEIVED:
            return Balance(balance.on_hand + q, balance.reserved)
        case EventType.ADJUSTED:
            return Balance(balance.on_hand + q, balance.reserved)
        case EventType.COUNTED:
            return Balance(q, balance.reserved)
        case EventType.RESERVED:
            return Balance(balance.on_hand, balance.reserved + q)
        case EventType.RELEASED:
            return Balance(balance.on_hand, balance.reserved - q)
        case EventType.FULFILLED:
            return Balance(balance.on_hand - q, balance.reserved - q)
        case EventType.RETURNED:
            return _apply_return(balance, event)
    raise InvalidInputError("type", f"unknown event type {event.type!r}")


def _apply_return(balance: Balance, event: LedgerEvent) -> Balance:
    # A return without restock is recorded (it is a fact) but the units are not sellable.
    if isinstance(event, StockReturned) and event.restock:
        return Balance(balance.on_hand + event.quantity, balance.reserved)
    return balance


def _check_reserve(balance: Balance, q: int, policy: ReservationPolicy) -> Rejection | None:
    if policy is ReservationPolicy.REJECT and balance.available < q:
        return Rejection(
            RejectionCode.INSUFFICIENT_STOCK,
            f"requested {q}, available {balance.available}",
        )
    return None


def _check_adjust(balance: Balance, delta: int, policy: ReservationPolicy) -> Rejection | None:
    after = balance.on_hand + delta
    if after < 0:
        return Rejection(
            RejectionCode.NEGATIVE_ON_HAND, f"on hand {balance.on_hand} cannot change by {delta}"
        )
    if policy is ReservationPolicy.REJECT and delta < 0 and after < balance.reserved:
        # Removing promised units is a shortage to be found by a count, not an adjustment.
        return Rejection(
            RejectionCode.UNCOVERED_RESERVATIONS,
            f"on hand {after} after the change would not cover {balance.reserved} reserved",
        )
    return None


def _check_reserved_covers(balance: Balance, q: int) -> Rejection | None:
    if balance.reserved < q:
        return Rejection(
            RejectionCode.NOTHING_RESERVED, f"{q} requested, only {balance.reserved} reserved"
        )
    return None


def _check_on_hand_covers(balance: Balance, q: int) -> Rejection | None:
    if balance.on_hand < q:
        return Rejection(
            RejectionCode.NEGATIVE_ON_HAND, f"cannot ship {q}, only {balance.on_hand} on hand"
        )
    return None
