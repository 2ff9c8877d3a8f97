"""The embedded Inbox (bus.inbox): a leased table queue in the ledger database, with the
records ingestion keeps beside it (poll cursors, incidents, order-line marks; the journal's
outcomes by key answer `known`), and the settlement that writes a step's ledger events and
these records in one transaction of the journal's."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from omnistock.bus.inbox import (
    DEFAULT_LEASE_S,
    DEFAULT_MAX_ATTEMPTS,
    MAX_ROUNDS,
    Decide,
    InboxCounts,
    InboxItem,
    InboxKind,
    InboxMessage,
    Incident,
    IncidentKind,
    KnownKeys,
    Settled,
)
from omnistock.clock import Clock
from omnistock.domain.balance import Rejection, RejectionCode
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId
from omnistock.ledger.database import Database, Row
from omnistock.ledger.journal import Journal

MAX_ERROR = 2_000
# Dedupe keys are remembered this long; a platform redelivering later gives a duplicate
# that only the ledger's idempotency keys absorb (still exactly once in effect).
DEFAULT_RETENTION = timedelta(days=30)

_INCIDENT_COLUMNS = (
    "key, kind, account, reason, order_id, line_id, sku, location, quantity, recorded_at, position"
)
_ITEM_COLUMNS = "id, kind, account, dedupe_key, payload, received_at, attempts, last_error"


class SqlInbox:
    """The queue is two tables, `inbox` and `inbox_keys` (dedupe keys seen); beside them
    `ingest_marks`, `poll_cursors` and `incidents`. Each method is one transaction; the
    async form (`ledger.store`) runs them on the store's thread."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        journal: Journal,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retention: timedelta = DEFAULT_RETENTION,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._db = db
        self._clock = clock
        self._journal = journal
        self._max_attempts = max_attempts
        self._retention = retention

    def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """Store every message in one transaction; per message, False if its dedupe key was
        already received (it is then not stored again). InvalidInputError: nothing stored."""
        for index, message in enumerate(messages):
            try:
                message.validate()
            except (InvalidInputError, ValueError) as exc:
                raise InvalidInputError(f"messages[{index}]", str(exc)) from None
        now = self._clock.now()
        at = self._time(now)
        with self._db.transaction():
            self._db.run(
                "DELETE FROM inbox_keys WHERE received_at < ?",
                (self._time(now - self._retention),),
            )
            return [self._put_one(message, at) for message in messages]

    def _put_one(self, message: InboxMessage, at: object) -> bool:
        new = self._db.run(
            "INSERT INTO inbox_keys (dedupe_key, received_at) VALUES (?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (message.dedupe_key, at),
        )
        if new:
            self._db.run(
                "INSERT INTO inbox (kind, account, dedupe_key, payload, received_at,"
                " visible_at, attempts, parked) VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
                (message.kind.value, message.account, message.dedupe_key, message.payload, at, at),
            )
        return new > 0

    def take(self, limit: int, lease: float = DEFAULT_LEASE_S) -> list[InboxItem]:
        """Up to `limit` visible items, oldest first, each leased for `lease` seconds. An item
        already delivered `max_attempts` times whose lease ran out is parked, not delivered."""
        now = self._clock.now()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.name == "postgres" else ""
        with self._db.transaction():
            rows = self._db.rows(
                f"SELECT {_ITEM_COLUMNS} FROM inbox WHERE parked = 0 AND visible_at <= ?"
                f" ORDER BY id LIMIT ?{lock}",
                (self._time(now), limit),
            )
            spent = [row for row in rows if row[6] >= self._max_attempts]
            self._db.run_many(
                "UPDATE inbox SET parked = 1, last_error = ? WHERE id = ?",
                [(_spent_error(row), row[0]) for row in spent],
            )
            due = [row for row in rows if row[6] < self._max_attempts]
            until = self._time(now + timedelta(seconds=lease))
            self._db.run_many(
                "UPDATE inbox SET attempts = attempts + 1, visible_at = ? WHERE id = ?",
                [(until, row[0]) for row in due],
            )
        return [self._item(row, attempts=row[6] + 1) for row in due]

    def ack(self, ids: Collection[int]) -> None:
        """Remove processed items; unknown ids (already acknowledged) are ignored."""
        with self._db.transaction():
            self._ack(ids)

    def _ack(self, ids: Collection[int]) -> None:
        self._db.run_many("DELETE FROM inbox WHERE id = ?", [(i,) for i in ids])

    def fail(self, item_id: int, error: str, retry_at: datetime) -> bool:
        """Keep the item with its error, visible again at `retry_at`; once it has been
        delivered `max_attempts` times, park it instead. Returns whether it was parked."""
        with self._db.transaction():
            rows = self._db.rows("SELECT attempts FROM inbox WHERE id = ?", (item_id,))
            if not rows:
                return False
            park = bool(rows[0][0] >= self._max_attempts)
            self._db.run(
                "UPDATE inbox SET last_error = ?, visible_at = ?, parked = ? WHERE id = ?",
                (error[:MAX_ERROR], self._time(retry_at), int(park), item_id),
            )
        return park

    def parked(self, limit: int = 100) -> list[InboxItem]:
        """Parked items, oldest first, with their last error."""
        rows = self._db.rows(
            f"SELECT {_ITEM_COLUMNS} FROM inbox WHERE parked = 1 ORDER BY id LIMIT ?", (limit,)
        )
        return [self._item(row, attempts=row[6]) for row in rows]

    def counts(self) -> InboxCounts:
        rows = self._db.rows("SELECT parked, COUNT(*) FROM inbox GROUP BY parked")
        found = {int(parked): count for parked, count in rows}
        return InboxCounts(pending=found.get(0, 0), parked=found.get(1, 0))

    def _item(self, row: Row, *, attempts: int) -> InboxItem:
        return InboxItem(
            id=row[0],
            kind=InboxKind(row[1]),
            account=row[2],
            dedupe_key=row[3],
            payload=row[4],
            received_at=self._db.decode_time(row[5]),
            attempts=attempts,
            last_error=row[7],
        )

    def _time(self, value: datetime) -> object:
        # UTC everywhere, so SQLite's ISO text compares in time order.
        return self._db.encode_time(value.astimezone(UTC))

    def known(self, keys: Collection[str]) -> KnownKeys:
        """Which keys already happened: a journal outcome (its rejection, None if applied)
        or a mark (None)."""
        db = self._db
        param = (db.list_param(keys),)
        found: KnownKeys = {
            key: None
            for (key,) in db.rows(f"SELECT key FROM ingest_marks WHERE {db.any_of('key')}", param)
        }
        for key, code, message in db.rows(
            "SELECT idempotency_key, rejection_code, rejection_message FROM outcomes"
            f" WHERE {db.any_of('idempotency_key')}",
            param,
        ):
            found[key] = None if code is None else Rejection(RejectionCode(code), message)
        return found

    def settle(self, keys: Collection[str], decide: Decide) -> Settled:
        """See bus.inbox.Inbox.settle: every step's writes commit together, in one
        transaction of the journal's (retried from the start when contended)."""
        return self._journal.transact(lambda: self._settle(keys, decide))

    def _settle(self, keys: Collection[str], decide: Decide) -> Settled:
        settled = Settled()
        for _ in range(MAX_ROUNDS):
            # A level report names no order lines: nothing to look up.
            step = decide(self.known(keys) if keys else {})
            if step.marks:
                self._mark(step.marks)
            if step.events:
                results = self._journal.append_within(step.events)
                settled.appended.extend(zip(step.events, results, strict=True))
            if step.final:
                if step.incidents:
                    settled.fresh.extend(self._record_all(step.incidents))
                if step.ack:
                    self._ack(step.ack)
                return settled
        raise RuntimeError(f"a settlement did not converge in {MAX_ROUNDS} steps")

    def _mark(self, keys: Collection[str]) -> None:
        """Remember that these keys happened (idempotent)."""
        at = self._db.encode_time(self._clock.now())
        self._db.run_many(
            "INSERT INTO ingest_marks (key, created_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            [(key, at) for key in sorted(set(keys))],
        )

    def cursor(self, account: AccountId) -> str | None:
        rows = self._db.rows("SELECT cursor FROM poll_cursors WHERE account = ?", (account,))
        return str(rows[0][0]) if rows else None

    def save_cursor(self, account: AccountId, cursor: str) -> None:
        at = self._db.encode_time(self._clock.now())
        with self._db.transaction():
            self._db.run(
                "INSERT INTO poll_cursors (account, cursor, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (account) DO UPDATE SET"
                " cursor = excluded.cursor, updated_at = excluded.updated_at",
                (account, cursor, at),
            )

    def _record_all(self, incidents: Sequence[Incident]) -> list[bool]:
        """Record each incident once per key; False for a key already recorded."""
        at = self._db.encode_time(self._clock.now())
        return [self._record(incident, at) > 0 for incident in incidents]

    def _record(self, i: Incident, at: object) -> int:
        return self._db.run(
            "INSERT INTO incidents (key, kind, account, reason, order_id, line_id, sku,"
            " location, quantity, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO NOTHING",
            (
                i.key,
                i.kind.value,
                i.account,
                i.reason[:MAX_ERROR],
                i.order_id,
                i.line_id,
                i.sku,
                i.location,
                i.quantity,
                at,
            ),
        )

    def incidents(self, limit: int = 100) -> list[Incident]:
        """The most recent incidents first."""
        rows = self._db.rows(
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents ORDER BY position DESC LIMIT ?",
            (limit,),
        )
        return [self._incident(row) for row in rows]

    def incidents_after(self, position: int, limit: int = 100) -> list[Incident]:
        """Incidents recorded after `position`, oldest first (a feed's next stretch)."""
        rows = self._db.rows(
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE position > ?"
            " ORDER BY position LIMIT ?",
            (position, limit),
        )
        return [self._incident(row) for row in rows]

    def _incident(self, row: Row) -> Incident:
        return Incident(
            key=row[0],
            kind=IncidentKind(row[1]),
            account=row[2],
            reason=row[3],
            order_id=row[4],
            line_id=row[5],
            sku=row[6],
            location=row[7],
            quantity=row[8],
            recorded_at=self._db.decode_time(row[9]),
            position=row[10],
        )


def _spent_error(row: Row) -> str:
    last = f": last error {row[7]}" if row[7] else ""
    return f"not acknowledged after {row[6]} deliveries{last}"[:MAX_ERROR]
