"""Discovered listings and the discovery run of each account: what onboarding has read of a
channel, saved page by page with the cursor after it, in one transaction per page.

A run begins (the account's previous discovery is forgotten), saves pages until the channel
has no more (the run is then done), and an interrupted run resumes from its cursor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId
from omnistock.ledger.codec import decode_mapping, encode_mapping
from omnistock.ledger.database import Database, Row

MAX_KEY_LENGTH = 200
MAX_TEXT_LENGTH = 1000  # titles and SKUs as the channel spells them; longer is cut


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveredRow:
    """One listing of the channel as discovery saved it (linking reads these)."""

    key: str
    sku: str | None
    external_ids: Mapping[str, str]
    managed: bool
    quantity: int | None = None
    title: str = ""
    location: str | None = None
    seen_at: datetime | None = None  # set when read back from the store


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryRun:
    """Where an account's discovery stands: `cursor` is the page to read next."""

    account: AccountId
    cursor: str | None
    done: bool
    pages: int
    total: int | None
    started_at: datetime
    updated_at: datetime


_COLUMNS = "key, sku, external_ids, managed, quantity, title, location, seen_at"
_RUN_COLUMNS = "account, cursor, done, pages, total, started_at, updated_at"


class DiscoveryRepo:
    """Transaction scripts over discovered_listings and discovery_runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def begin(self, account: AccountId, now: datetime) -> DiscoveryRun:
        """Start the account's discovery afresh: its saved listings and cursor are dropped."""
        at = self._time(now)
        with self._db.transaction():
            self._db.run("DELETE FROM discovered_listings WHERE account = ?", (account,))
            self._db.run("DELETE FROM discovery_runs WHERE account = ?", (account,))
            self._db.run(
                f"INSERT INTO discovery_runs ({_RUN_COLUMNS}) VALUES (?, NULL, ?, 0, NULL, ?, ?)",
                (account, False, at, at),
            )
        return DiscoveryRun(
            account=account,
            cursor=None,
            done=False,
            pages=0,
            total=None,
            started_at=now,
            updated_at=now,
        )

    def run_of(self, account: AccountId) -> DiscoveryRun | None:
        rows = self._db.rows(
            f"SELECT {_RUN_COLUMNS} FROM discovery_runs WHERE account = ?", (account,)
        )
        return self._run(rows[0]) if rows else None

    def save_page(
        self,
        account: AccountId,
        listings: Sequence[DiscoveredRow],
        *,
        after: str | None,
        expected: str | None,
        total: int | None,
        now: datetime,
    ) -> None:
        """Save one page and the cursor after it (None: the run is done), in one transaction.

        `expected` is the cursor the page was read from: if the run has moved on (another
        process saved it, or the run was restarted), nothing is written and
        InvalidInputError is raised, so a page is never saved twice nor into another run."""
        for row in listings:
            _check(row)
        at = self._time(now)
        with self._db.transaction():
            moved = self._db.run(
                "UPDATE discovery_runs SET cursor = ?, done = ?, pages = pages + 1,"
                " total = COALESCE(?, total), updated_at = ?"
                " WHERE account = ? AND done = ?"
                " AND (cursor = ? OR (cursor IS NULL AND CAST(? AS TEXT) IS NULL))",
                (after, after is None, total, at, account, False, expected, expected),
            )
            if moved != 1:
                raise InvalidInputError("discovery", f"account {account}: the run has moved on")
            self._db.run_many(
                f"INSERT INTO discovered_listings (account, {_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, key) DO UPDATE SET"
                " sku = excluded.sku, external_ids = excluded.external_ids,"
                " managed = excluded.managed, quantity = excluded.quantity,"
                " title = excluded.title, location = excluded.location,"
                " seen_at = excluded.seen_at",
                [_values(account, row, at) for row in listings],
            )

    def listings(self, account: AccountId) -> list[DiscoveredRow]:
        """The account's discovered listings, by key."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM discovered_listings WHERE account = ? ORDER BY key",
            (account,),
        )
        return [self._row(row) for row in rows]

    def count(self, account: AccountId) -> int:
        rows = self._db.rows(
            "SELECT COUNT(*) FROM discovered_listings WHERE account = ?", (account,)
        )
        return int(rows[0][0])

    def _row(self, row: Row) -> DiscoveredRow:
        key, sku, ids, managed, quantity, title, location, seen = row
        return DiscoveredRow(
            key=key,
            sku=sku,
            external_ids=decode_mapping(ids),
            managed=bool(managed),
            quantity=quantity,
            title=title,
            location=location,
            seen_at=self._db.decode_time(seen),
        )

    def _run(self, row: Row) -> DiscoveryRun:
        account, cursor, done, pages, total, started, updated = row
        return DiscoveryRun(
            account=AccountId(account),
            cursor=cursor,
            done=bool(done),
            pages=int(pages),
            total=total,
            started_at=self._db.decode_time(started),
            updated_at=self._db.decode_time(updated),
        )

    def _time(self, value: datetime) -> object:
        return self._db.encode_time(value.astimezone(UTC))


def _check(row: DiscoveredRow) -> None:
    if not row.key or len(row.key) > MAX_KEY_LENGTH:
        raise InvalidInputError("discovered.key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in row.external_ids.items()):
        raise InvalidInputError("discovered.external_ids", "must map texts to texts")


def _values(account: AccountId, row: DiscoveredRow, at: object) -> tuple[object, ...]:
    return (
        account,
        row.key,
        None if row.sku is None else row.sku[:MAX_TEXT_LENGTH],
        encode_mapping(row.external_ids),
        row.managed,
        row.quantity,
        row.title[:MAX_TEXT_LENGTH],
        row.location,
        at,
    )
