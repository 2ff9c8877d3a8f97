"""Posting: applying a batch of validated, new events to the balances they touch.

Pure: the store loads the balances, versions and bundles a batch needs, calls `post`, and
writes back what it returns — all in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from omnistock.domain.balance import (
    ZERO,
    Balance,
    Rejection,
    RejectionCode,
    ReservationPolicy,
    apply,
    check,
)
from omnistock.domain.bundles import Bundle, expand, moves_components
from omnistock.domain.errors import ConcurrencyConflictError, InvalidInputError
from omnistock.domain.events import LedgerEvent
from omnistock.domain.ids import LocationId, Sku

BalanceTable = dict[Sku, dict[LocationId, Balance]]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the log stores it: with its per-SKU sequence and, if any, its bundle."""

    event: LedgerEvent
    sequence: int
    bundle: Sku | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one input event: recorded (with sequences) or rejected."""

    idempotency_key: str
    sequences: tuple[int, ...] = ()
    rejection: Rejection | None = None

    @property
    def applied(self) -> bool:
        return self.rejection is None


@dataclass(slots=True)
class Posting:
    """The result of posting a batch: what to write, and one outcome per input event."""

    outcomes: list[Outcome] = field(default_factory=list)
    recorded: list[RecordedEvent] = field(default_factory=list)
    balances: BalanceTable = field(default_factory=dict)  # touched SKUs, every location
    versions: dict[Sku, int] = field(default_factory=dict)  # SKUs whose version moved


@dataclass(frozen=True, slots=True)
class LedgerState:
    """The slice of the ledger a batch touches, as loaded by the store."""

    balances: Mapping[Sku, Mapping[LocationId, Balance]]
    versions: Mapping[Sku, int]
    bundles: Mapping[Sku, Bundle]
    containing: Mapping[Sku, Iterable[Sku]]  # component SKU -> bundles that contain it


def check_expected(versions: Mapping[Sku, int], expected: Mapping[Sku, int]) -> None:
    """Raise ConcurrencyConflictError when a SKU moved past the version the caller read."""
    for sku, version in expected.items():
        actual = versions.get(sku, 0)
        if actual != version:
            raise ConcurrencyConflictError(sku, version, actual)


def post(state: LedgerState, events: Sequence[LedgerEvent], policy: ReservationPolicy) -> Posting:
    """Apply `events` in order; an event (or a bundle's components) applies whole or not."""
    result = Posting()
    for event in events:
        group, bundle, rejection = _group(state, event)
        if rejection is None:
            rejection = _apply_group(state, result, group, policy)
        if rejection is not None:
            result.outcomes.append(Outcome(event.idempotency_key, rejection=rejection))
            continue
        sequences = _record(state, result, group, bundle)
        result.outcomes.append(Outcome(event.idempotency_key, sequences))
    return result


def all_or_nothing(posting: Posting) -> Posting:
    """The posting unchanged if every event applied; else one that applies none, each
    event keeping its own rejection or marked rejected because a sibling was."""
    if all(o.applied for o in posting.outcomes):
        return posting
    sibling = Rejection(RejectionCode.GROUP_REJECTED, "another event of the request was rejected")
    return Posting(
        outcomes=[
            Outcome(o.idempotency_key, rejection=o.rejection or sibling) for o in posting.outcomes
        ]
    )


def _group(
    state: LedgerState, event: LedgerEvent
) -> tuple[tuple[LedgerEvent, ...], Sku | None, Rejection | None]:
    bundle = state.bundles.get(event.sku)
    if bundle is None:
        return (event,), None, None
    if not moves_components(event):
        reason = f"stock of bundle {event.sku!r} is derived from its components"
        return (), None, Rejection(RejectionCode.DERIVED_STOCK, reason)
    try:
        return expand(event, bundle), event.sku, None
    except InvalidInputError as exc:  # too large once multiplied out: this event only
        return (), None, Rejection(RejectionCode.OUT_OF_RANGE, exc.problem)


def _balance(state: LedgerState, result: Posting, sku: Sku, loc: LocationId) -> Balance:
    touched = result.balances.get(sku)
    if touched is not None and loc in touched:
        return touched[loc]
    return state.balances.get(sku, {}).get(loc, ZERO)


def _apply_group(
    state: LedgerState,
    result: Posting,
    group: tuple[LedgerEvent, ...],
    policy: ReservationPolicy,
) -> Rejection | None:
    if len(group) == 1:  # the common case, without the trial list
        event = group[0]
        before = _balance(state, result, event.sku, event.location)
        rejection = check(before, event, policy)
        if rejection is None:
            _store(state, result, event, apply(before, event))
        return rejection
    trial = []
    for event in group:
        before = _balance(state, result, event.sku, event.location)
        rejection = check(before, event, policy)
        if rejection is not None:
            return rejection
        trial.append((event, apply(before, event)))
    for event, after in trial:
        _store(state, result, event, after)
    return None


def _store(state: LedgerState, result: Posting, event: LedgerEvent, after: Balance) -> None:
    touched = result.balances.get(event.sku)
    if touched is None:
        touched = result.balances[event.sku] = dict(state.balances.get(event.sku, {}))
    touched[event.location] = after


def _record(
    state: LedgerState, result: Posting, group: tuple[LedgerEvent, ...], bundle: Sku | None
) -> tuple[int, ...]:
    sequences = []
    for event in group:
        sequence = _bump(state, result, event.sku)
        for containing in state.containing.get(event.sku, ()):
            _bump(state, result, containing)
        result.recorded.append(RecordedEvent(event, sequence, bundle))
        sequences.append(sequence)
    return tuple(sequences)


def _bump(state: LedgerState, result: Posting, sku: Sku) -> int:
    version = result.versions.get(sku, state.versions.get(sku, 0)) + 1
    result.versions[sku] = version
    return version


def replay(
    recorded: Iterable[RecordedEvent],
) -> tuple[BalanceTable, dict[Sku, int]]:
    """Balances and last sequences rebuilt from the log, applying without re-deciding."""
    balances: BalanceTable = {}
    sequences: dict[Sku, int] = {}
    for item in recorded:
        event = item.event
        at = balances.setdefault(event.sku, {})
        at[event.location] = apply(at.get(event.location, ZERO), event)
        sequences[event.sku] = item.sequence
    return balances, sequences
