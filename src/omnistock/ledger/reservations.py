"""Checkout reservations: several lines held together for a time, then confirmed, released
or expired. Holding and releasing are ledger events, so they are exactly-once like any other.

A reservation's events are keyed by its id, so every step can be retried after a crash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from omnistock.domain.balance import RejectionCode
from omnistock.domain.errors import (
    DomainError,
    IdempotencyConflictError,
    InvalidInputError,
    UnknownEntityError,
)
from omnistock.domain.events import LedgerEvent, StockReleased, StockReserved
from omnistock.domain.ids import LocationId, Sku, check_identifier, check_quantity
from omnistock.ledger.database import Database
from omnistock.ledger.journal import Journal

MAX_LINES = 100
MAX_TTL = timedelta(days=7)


class ReservationStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"
    REJECTED = "rejected"
    HOLDING = "holding"  # written, ledger not yet decided (a crash resumes from here)
    # Claimed for releasing: the units are being given back (a crash resumes from here).
    RELEASING = "releasing"
    EXPIRING = "expiring"


_FINAL = {
    ReservationStatus.RELEASING: ReservationStatus.RELEASED,
    ReservationStatus.EXPIRING: ReservationStatus.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class ReservationLine:
    sku: Sku
    location: LocationId
    quantity: int


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    status: ReservationStatus
    lines: tuple[ReservationLine, ...]
    created_at: datetime
    expires_at: datetime
    reason: str | None = None


class ReservationStateError(DomainError):
    """The reservation is not in a state that allows the operation (e.g. confirm expired)."""


class ReservationRepo:
    def __init__(self, db: Database, journal: Journal) -> None:
        self._db = db
        self._journal = journal

    def hold(
        self, rid: str, lines: Sequence[ReservationLine], ttl: timedelta, source: str, now: datetime
    ) -> Reservation:
        """Reserve every line or none; a repeated call with the same id and lines answers the
        first result, with other lines it raises IdempotencyConflictError.

        The row is written first (holding), then the ledger, then the verdict: a crash in
        between leaves a holding row that a retry or the expiry sweep settles."""
        _check(rid, lines, ttl)
        print_ = _fingerprint(lines, ttl)
        existing = self.get(rid, print_)
        if existing is not None and existing.status is not ReservationStatus.HOLDING:
            return existing
        with self._db.transaction():
            self._db.run(
                "INSERT INTO reservations (id, fingerprint, status, lines, source, created_at,"
                " expires_at) VALUES (?, ?, 'holding', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (rid, print_, _lines_json(lines), source, _iso(now), _iso(now + ttl)),
            )
        try:
            return self._settle(rid)
        except (InvalidInputError, UnknownEntityError):
            # Refused before the ledger wrote anything: the request leaves no trace either.
            with self._db.transaction():
                self._db.run("DELETE FROM reservations WHERE id = ? AND status = 'holding'", (rid,))
            raise

    def _settle(self, rid: str) -> Reservation:
        """Decide a holding reservation: the same ledger events as the first attempt (same
        keys, same times), so an attempt that reached the ledger answers as it did then."""
        rows = self._db.rows(
            "SELECT lines, source, created_at FROM reservations"
            " WHERE id = ? AND status = 'holding'",
            (rid,),
        )
        if rows:
            lines, source, created = _parse_lines(rows[0][0]), rows[0][1], rows[0][2]
            at = datetime.fromisoformat(created)
            events = [_reserve(rid, i, line, source, at) for i, line in enumerate(lines)]
            results = self._journal.append(events, all_or_none=True)
            own = [
                r.rejection
                for r in results
                if r.rejection is not None and r.rejection.code is not RejectionCode.GROUP_REJECTED
            ]
            rejected = any(not r.applied for r in results)
            status = ReservationStatus.REJECTED if rejected else ReservationStatus.HELD
            with self._db.transaction():
                self._db.run(
                    "UPDATE reservations SET status = ?, reason = ? WHERE id = ?"
                    " AND status = 'holding'",
                    (status.value, own[0].message if own else None, rid),
                )
        return self._require(rid)

    def confirm(self, rid: str) -> Reservation:
        """Keep the units reserved without expiry (the order is placed). Idempotent."""
        with self._db.transaction():
            self._db.run(
                "UPDATE reservations SET status = 'confirmed' WHERE id = ? AND status = 'held'",
                (rid,),
            )
        found = self._require(rid)
        if found.status is not ReservationStatus.CONFIRMED:
            raise ReservationStateError(f"reservation {rid!r} is {found.status.value}")
        return found

    def release(self, rid: str, now: datetime, *, expired: bool = False) -> Reservation:
        """Give the units back: a cancellation (held or confirmed) or, with `expired`, the
        end of a held reservation's time. Idempotent; never releases twice.

        The status is claimed first (releasing/expiring), so a confirmation racing an
        expiry cannot lose: whichever changes the row first wins, the other sees it."""
        found = self._require(rid)
        if found.status is ReservationStatus.REJECTED:
            raise ReservationStateError(f"reservation {rid!r} was rejected: nothing to release")
        pending = ReservationStatus.EXPIRING if expired else ReservationStatus.RELEASING
        allowed = ("held",) if expired else ("held", "confirmed")
        with self._db.transaction():
            self._db.run(
                f"UPDATE reservations SET status = ? WHERE id = ? AND status IN"
                f" ({', '.join('?' * len(allowed))})",
                (pending.value, rid, *allowed),
            )
        return self._finish(rid, now)

    def expire_due(self, now: datetime, limit: int = 500) -> list[str]:
        """Release every held reservation whose time is up, and finish any release a crash
        interrupted; return the ids handled."""
        rows = self._db.rows(
            "SELECT id, status FROM reservations"
            " WHERE (status IN ('held', 'holding') AND expires_at <= ?)"
            " OR status IN ('releasing', 'expiring') ORDER BY expires_at LIMIT ?",
            (_iso(now), limit),
        )
        for rid, status in rows:
            if status == ReservationStatus.HOLDING:
                self._settle(rid)  # its checkout died mid-way: decide, then let it expire
                status = self._require(rid).status.value
            if status == ReservationStatus.HELD:
                self.release(rid, now, expired=True)
            elif status in (ReservationStatus.RELEASING, ReservationStatus.EXPIRING):
                self._finish(rid, now)
        return [rid for rid, _ in rows]

    def _finish(self, rid: str, now: datetime) -> Reservation:
        current = self._require(rid)
        final = _FINAL.get(current.status)
        if final is None:
            return current  # not claimed for releasing: nothing to do
        events = [_release(rid, i, line, now) for i, line in enumerate(current.lines)]
        self._journal.append(events)  # keyed by the reservation: a repeat changes nothing
        with self._db.transaction():
            self._db.run(
                "UPDATE reservations SET status = ? WHERE id = ? AND status = ?",
                (final.value, rid, current.status.value),
            )
        return self._require(rid)

    def get(self, rid: str, fingerprint: str | None = None) -> Reservation | None:
        rows = self._db.rows(
            "SELECT id, fingerprint, status, lines, created_at, expires_at, reason"
            " FROM reservations WHERE id = ?",
            (rid,),
        )
        if not rows:
            return None
        rid_, stored_print, status, lines, created, expires, reason = rows[0]
        if fingerprint is not None and fingerprint != stored_print:
            raise IdempotencyConflictError(rid)
        return Reservation(
            rid_,
            ReservationStatus(status),
            _parse_lines(lines),
            datetime.fromisoformat(created),
            datetime.fromisoformat(expires),
            reason,
        )

    def _require(self, rid: str) -> Reservation:
        found = self.get(rid)
        if found is None:
            raise ReservationStateError(f"no reservation {rid!r}")
        return found


def _check(rid: str, lines: Sequence[ReservationLine], ttl: timedelta) -> None:
    check_identifier("id", rid, 200)
    if not 0 < len(lines) <= MAX_LINES:
        raise InvalidInputError("lines", f"give 1 to {MAX_LINES} lines")
    for i, line in enumerate(lines):
        check_identifier(f"lines[{i}].sku", line.sku)
        check_identifier(f"lines[{i}].location", line.location)
        check_quantity(f"lines[{i}].quantity", line.quantity, minimum=1)
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidInputError("ttl_s", f"must be between 1 second and {MAX_TTL}")


def _reserve(rid: str, i: int, line: ReservationLine, source: str, now: datetime) -> LedgerEvent:
    return StockReserved(
        idempotency_key=f"{rid}:{i}:reserved",
        sku=line.sku,
        location=line.location,
        quantity=line.quantity,
        source=source,
        occurred_at=now,
        order_line=f"{rid}:{i}",
    )


def _release(rid: str, i: int, line: ReservationLine, now: datetime) -> LedgerEvent:
    return StockReleased(
        idempotency_key=f"{rid}:{i}:released",
        sku=line.sku,
        location=line.location,
        quantity=line.quantity,
        source="reservations",
        occurred_at=now,
        order_line=f"{rid}:{i}",
    )


def _lines_json(lines: Sequence[ReservationLine]) -> str:
    return json.dumps([[x.sku, x.location, x.quantity] for x in lines])


def _parse_lines(text: str) -> tuple[ReservationLine, ...]:
    return tuple(ReservationLine(Sku(s), LocationId(loc), q) for s, loc, q in json.loads(text))


def _fingerprint(lines: Sequence[ReservationLine], ttl: timedelta) -> str:
    text = _lines_json(lines) + f"|{ttl.total_seconds()}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
