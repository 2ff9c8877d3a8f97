"""The journal: appending events exactly once and reading the log and the balances.

An append validates, answers duplicates with their original result, posts the new events,
and writes events, balances, versions and desired quantities in one transaction."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple, TypeVar

from omnistock.clock import Clock
from omnistock.domain.balance import Balance, Rejection, RejectionCode, ReservationPolicy
from omnistock.domain.errors import (
    IdempotencyConflictError,
    InvalidInputError,
    StorageBusyError,
    UnknownEntityError,
)
from omnistock.domain.events import (
    EventRecord,
    EventType,
    LedgerEvent,
    LedgerEventBase,
    fingerprint,
    from_record,
    specific_columns,
)
from omnistock.domain.ids import LocationId, Sku
from omnistock.domain.planning import affected_skus, availability_changed
from omnistock.domain.posting import (
    LedgerState,
    Outcome,
    Posting,
    RecordedEvent,
    all_or_nothing,
    check_expected,
    post,
)
from omnistock.ledger.database import BulkStatement, Database, RetryableError, Row
from omnistock.ledger.projection import (
    ListingPlans,
    Slice,
    bump_versions,
    load_slice,
    refresh_desired,
    release_held,
)

T = TypeVar("T")

MAX_BATCH = 10_000

_EVENT_COLUMNS = (
    ("idempotency_key", "text"),
    ("sku", "text"),
    ("location", "text"),
    ("seq", "bigint"),
    ("type", "text"),
    ("quantity", "bigint"),
    ("source", "text"),
    ("occurred_at", "timestamptz"),
    ("recorded_at", "timestamptz"),
    ("reason", "text"),
    ("order_line", "text"),
    ("account", "text"),
    ("restock", "boolean"),
    ("bundle", "text"),
    ("schema_version", "integer"),
)
_EVENT_NAMES = ", ".join(name for name, _ in _EVENT_COLUMNS)
_INSERT_EVENTS = BulkStatement(
    name="events",
    columns=_EVENT_COLUMNS,
    per_row=f"INSERT INTO events ({_EVENT_NAMES}) VALUES ({', '.join('?' * 15)})",
    set_based=f"INSERT INTO events ({_EVENT_NAMES}) SELECT {_EVENT_NAMES} FROM {{rows}}",
)
_OUTCOME_COLUMNS = (
    ("idempotency_key", "text"),
    ("fingerprint", "text"),
    ("sequences", "text"),
    ("rejection_code", "text"),
    ("rejection_message", "text"),
)
_OUTCOME_NAMES = ", ".join(name for name, _ in _OUTCOME_COLUMNS)
_INSERT_OUTCOMES = BulkStatement(
    name="outcomes",
    columns=_OUTCOME_COLUMNS,
    per_row=f"INSERT INTO outcomes ({_OUTCOME_NAMES}) VALUES (?, ?, ?, ?, ?)",
    set_based=f"INSERT INTO outcomes ({_OUTCOME_NAMES}) SELECT {_OUTCOME_NAMES} FROM {{rows}}",
)
_UPSERT_BALANCES = BulkStatement(
    name="balances",
    columns=(("sku", "text"), ("location", "text"), ("on_hand", "bigint"), ("reserved", "bigint")),
    per_row="INSERT INTO balances (sku, location, on_hand, reserved) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (sku, location) DO UPDATE SET"
    " on_hand = excluded.on_hand, reserved = excluded.reserved",
    set_based="INSERT INTO balances (sku, location, on_hand, reserved)"
    " SELECT sku, location, on_hand, reserved FROM {rows}"
    " ON CONFLICT (sku, location) DO UPDATE SET"
    " on_hand = excluded.on_hand, reserved = excluded.reserved",
)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What became of one appended event; a duplicate carries the original answer."""

    idempotency_key: str
    sequences: tuple[int, ...] = ()
    rejection: Rejection | None = None
    duplicate: bool = False

    @property
    def applied(self) -> bool:
        return self.rejection is None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    sequence: int
    event: LedgerEvent
    bundle: Sku | None
    recorded_at: datetime


class Journal:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: ReservationPolicy = ReservationPolicy.REJECT,
        max_attempts: int = 30,
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._max_attempts = max_attempts
        self._plans = ListingPlans()

    def append(
        self,
        events: Sequence[LedgerEvent],
        expected_versions: Mapping[Sku, int] | None = None,
        *,
        all_or_none: bool = False,
    ) -> list[AppendResult]:
        """Append `events` in one transaction; one result per event, in order. With
        `all_or_none`, one rejected event rejects them all (each says why).

        Raises InvalidInputError, UnknownEntityError or IdempotencyConflictError (nothing
        written), ConcurrencyConflictError when `expected_versions` is stale, and
        StorageBusyError when concurrent writers kept winning."""
        return self._append(events, check_batch(events), expected_versions, all_or_none)

    def append_checked(self, items: Sequence[Checked]) -> list[AppendResult]:
        """`append` of events that `check_events` passed, without checking them again
        (events are immutable, so its check still holds): the event API checks each
        request's events before they share an append with other requests'."""
        if len(items) > MAX_BATCH:
            raise InvalidInputError("events", f"at most {MAX_BATCH} per batch, got {len(items)}")
        events = [item.event for item in items]
        return self._append(events, [item.fingerprint for item in items], None, False)

    def _append(
        self,
        events: Sequence[LedgerEvent],
        fingerprints: list[str],
        expected_versions: Mapping[Sku, int] | None,
        all_or_none: bool,
    ) -> list[AppendResult]:
        return self.transact(
            lambda: self._append_once(events, fingerprints, expected_versions or {}, all_or_none)
        )

    def transact(self, work: Callable[[], T]) -> T:
        """Run `work` in one transaction, again from the start while a concurrent writer
        wins (RetryableError), then StorageBusyError. `work` may call `append_within`."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                with self._db.transaction():
                    return work()
            except RetryableError:
                # Full jitter keeps writers that collided from colliding again in step.
                time.sleep(random.uniform(0, min(0.0005 * 2**attempt, 0.05)))
        raise StorageBusyError(f"gave up after {self._max_attempts} attempts")

    def append_within(self, events: Sequence[LedgerEvent]) -> list[AppendResult]:
        """`append` inside the caller's `transact`, so that what the caller writes beside
        the events commits with them or not at all."""
        return self._append_once(events, check_batch(events), {}, False)

    def read(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events with position > `after`, in log order."""
        rows = self._db.rows(
            "SELECT position, seq, type, idempotency_key, sku, location, quantity, source,"
            " occurred_at, reason, order_line, account, restock, schema_version, bundle,"
            " recorded_at FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        return [self._stored(row) for row in rows]

    def balances(self, skus: Collection[Sku]) -> dict[Sku, dict[LocationId, Balance]]:
        """Balances of `skus` per location (a SKU never stocked has no entry)."""
        result: dict[Sku, dict[LocationId, Balance]] = {}
        for sku, location, on_hand, reserved in self._db.rows(
            f"SELECT sku, location, on_hand, reserved FROM balances WHERE {self._db.any_of('sku')}",
            (self._db.list_param(skus),),
        ):
            result.setdefault(sku, {})[location] = Balance(on_hand, reserved)
        return result

    def versions(self, skus: Collection[Sku]) -> dict[Sku, int]:
        """The concurrency version of each known SKU (pass it back as expected_versions)."""
        rows = self._db.rows(
            f"SELECT sku, version FROM items WHERE {self._db.any_of('sku')}",
            (self._db.list_param(skus),),
        )
        return dict(rows)

    def _append_once(
        self,
        events: Sequence[LedgerEvent],
        fingerprints: list[str],
        expected: Mapping[Sku, int],
        all_or_none: bool,
    ) -> list[AppendResult]:
        known = self._outcomes([e.idempotency_key for e in events])
        fresh: dict[str, tuple[LedgerEvent, str]] = {}
        for event, print_ in zip(events, fingerprints, strict=True):
            key = event.idempotency_key
            seen = known[key][0] if key in known else fresh.get(key, (None, print_))[1]
            if seen != print_:
                raise IdempotencyConflictError(key)
            if key not in known:
                fresh.setdefault(key, (event, print_))
        posted = self._post(list(fresh.values()), expected, all_or_none) if fresh else {}
        results = []
        answered: set[str] = set()
        for event in events:
            key = event.idempotency_key
            if key in known:
                results.append(known[key][1])
            elif key in answered:  # repeated inside the batch: a duplicate of the first
                results.append(replace(posted[key], duplicate=True))
            else:
                answered.add(key)
                results.append(posted[key])
        return results

    def _post(
        self, items: list[tuple[LedgerEvent, str]], expected: Mapping[Sku, int], all_or_none: bool
    ) -> dict[str, AppendResult]:
        events = [event for event, _ in items]
        skus = {e.sku for e in events}
        piece = load_slice(self._db, skus)
        missing = sorted(skus - piece.versions.keys())
        if missing:
            raise UnknownEntityError("sku", missing[0])
        self._check_locations({e.location for e in events})
        check_expected(piece.versions, expected)
        state = LedgerState(piece.balances, piece.last_seq, piece.bundles, piece.containing)
        posting = post(state, events, self._policy)
        if all_or_none:
            posting = all_or_nothing(posting)
        self._write(posting, piece, [print_ for _, print_ in items])
        return {
            o.idempotency_key: AppendResult(o.idempotency_key, o.sequences, o.rejection)
            for o in posting.outcomes
        }

    def _write(self, posting: Posting, piece: Slice, prints: list[str]) -> None:
        db = self._db
        now = db.encode_time(self._clock.now())
        sequences = {**piece.last_seq, **posting.versions}
        bump_versions(db, piece.versions, sequences, posting.versions.keys())
        db.run_bulk(_INSERT_EVENTS, [_event_row(r, now, db) for r in posting.recorded])
        db.run_bulk(
            _INSERT_OUTCOMES,
            [_outcome_row(o, print_) for o, print_ in zip(posting.outcomes, prints, strict=True)],
        )
        pairs = sorted({(r.event.sku, r.event.location) for r in posting.recorded})
        db.run_bulk(
            _UPSERT_BALANCES,
            [
                (sku, loc, (b := posting.balances[sku][loc]).on_hand, b.reserved)
                for sku, loc in pairs
            ],
        )
        moved = affected_skus(
            availability_changed(piece.balances, posting.balances), piece.containing
        )
        if moved:
            balances = {**piece.balances, **posting.balances}
            listings = self._plans.get(db, moved)
            refresh_desired(db, listings, balances, piece.bundles, sequences)
        # A SKU's first event makes its stock known: listings held back for not knowing it
        # are pushed now, even where the quantity they should show did not move (a count
        # of zero).
        known_now = {sku for sku, _ in pairs if not piece.balances.get(sku)}
        if known_now:
            release_held(db, self._plans.get(db, affected_skus(known_now, piece.containing)))

    def _outcomes(self, keys: list[str]) -> dict[str, tuple[str, AppendResult]]:
        rows = self._db.rows(
            "SELECT idempotency_key, fingerprint, sequences, rejection_code, rejection_message"
            f" FROM outcomes WHERE {self._db.any_of('idempotency_key')}",
            (self._db.list_param(keys),),
        )
        return {
            key: (
                print_,
                AppendResult(
                    key,
                    tuple(int(s) for s in sequences.split(",") if s),
                    None if code is None else Rejection(RejectionCode(code), message),
                    duplicate=True,
                ),
            )
            for key, print_, sequences, code, message in rows
        }

    def _check_locations(self, locations: set[LocationId]) -> None:
        rows = self._db.rows(
            f"SELECT id FROM locations WHERE {self._db.any_of('id')}",
            (self._db.list_param(locations),),
        )
        missing = sorted(locations - {row[0] for row in rows})
        if missing:
            raise UnknownEntityError("location", missing[0])

    def _stored(self, row: Row) -> StoredEvent:
        position, seq, type_, key, sku, location, quantity, source = row[:8]
        occurred_at, reason, order_line, account, restock, version, bundle, recorded = row[8:]
        record = EventRecord(
            type=EventType(type_),
            idempotency_key=key,
            sku=sku,
            location=location,
            quantity=quantity,
            source=source,
            occurred_at=self._db.decode_time(occurred_at),
            reason=reason,
            order_line=order_line,
            account=account,
            restock=None if restock is None else bool(restock),
            schema_version=version,
        )
        recorded_at = self._db.decode_time(recorded)
        return StoredEvent(position, seq, from_record(record), bundle, recorded_at)


def _event_row(recorded: RecordedEvent, now: object, db: Database) -> tuple[object, ...]:
    event = recorded.event
    reason, order_line, account, restock = specific_columns(event)
    return (
        event.idempotency_key,
        event.sku,
        event.location,
        recorded.sequence,
        event.type.value,
        event.quantity,
        event.source,
        db.encode_time(event.occurred_at),
        now,
        reason,
        order_line,
        account,
        restock,
        recorded.bundle,
        event.schema_version,
    )


def _outcome_row(outcome: Outcome, print_: str) -> tuple[object, ...]:
    rejection = outcome.rejection
    return (
        outcome.idempotency_key,
        print_,
        ",".join(map(str, outcome.sequences)),
        None if rejection is None else rejection.code.value,
        None if rejection is None else rejection.message,
    )


class Checked(NamedTuple):
    """An event `check_events` passed, and its fingerprint (see Journal.append_checked).
    A named tuple: the event API makes one per event it takes, on its event loop."""

    event: LedgerEvent
    fingerprint: str


def check_events(events: Sequence[LedgerEvent]) -> list[Checked]:
    """`check_batch`, keeping each event's fingerprint with it. Raises InvalidInputError
    naming the first bad event."""
    return list(map(Checked, events, check_batch(events)))


def check_batch(events: Sequence[LedgerEvent]) -> list[str]:
    """Check every event before anything is written; return their fingerprints. Raises
    InvalidInputError naming the first bad event (what `append` raises for it)."""
    if len(events) > MAX_BATCH:
        raise InvalidInputError("events", f"at most {MAX_BATCH} per batch, got {len(events)}")
    prints = []
    for index, event in enumerate(events):
        if not isinstance(event, LedgerEventBase):
            raise InvalidInputError(f"events[{index}]", "is not a ledger event")
        try:
            event.validate()
        except InvalidInputError as exc:
            raise InvalidInputError(f"events[{index}].{exc.field}", exc.problem) from None
        prints.append(fingerprint(event))
    return prints
