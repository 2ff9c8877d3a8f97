"""Listing sync state: what each listing should show, and what was last pushed.

A listing is dirty while its desired quantity differs from the last pushed one."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from omnistock.domain.ids import AccountId, ListingId
from omnistock.ledger.database import Database, Row


@dataclass(frozen=True, slots=True)
class ListingSyncState:
    listing: ListingId
    account: AccountId
    desired_qty: int
    desired_seq: int
    priority: int
    pushed_qty: int | None = None
    pushed_seq: int | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None

    @property
    def dirty(self) -> bool:
        return self.pushed_qty != self.desired_qty


_COLUMNS = (
    "listing, account, desired_qty, desired_seq, priority, pushed_qty, pushed_seq,"
    " attempts, next_attempt_at, last_error"
)


class SyncStateRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def states(self, listings: Collection[ListingId]) -> dict[ListingId, ListingSyncState]:
        """The sync state of each listing that has one."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM listing_sync WHERE {self._db.any_of('listing')}",
            (self._db.list_param(listings),),
        )
        return {row[0]: self._state(row) for row in rows}

    def dirty(self, account: AccountId, limit: int = 1000) -> list[ListingSyncState]:
        """The account's dirty listings, most urgent first (see planning.Priority)."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM listing_sync WHERE account = ? AND dirty = 1"
            " ORDER BY priority, desired_seq, listing LIMIT ?",
            (account, limit),
        )
        return [self._state(row) for row in rows]

    def _state(self, row: Row) -> ListingSyncState:
        next_at = None if row[8] is None else self._db.decode_time(row[8])
        listing, account, desired, desired_seq, priority, pushed, pushed_seq, attempts = row[:8]
        return ListingSyncState(
            listing,
            account,
            desired,
            desired_seq,
            priority,
            pushed,
            pushed_seq,
            attempts,
            next_attempt_at=next_at,
            last_error=row[9],
        )
