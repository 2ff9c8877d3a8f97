"""Listing sync state: what each listing should show, and what was last pushed.

A listing is dirty while its desired quantity differs from the last pushed one."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from omnistock.domain.errors import UnknownEntityError
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.ledger.codec import decode_mapping
from omnistock.ledger.database import BulkStatement, Database, Row

# Errors come from adapters (never carrying credentials); the cap keeps a host's page or a
# long platform message from bloating every row of a failing account.
MAX_ERROR_LENGTH = 500


# Why a listing is held back (listing_sync.held).
NO_STOCK_KNOWN = "no stock known"


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


@dataclass(frozen=True, slots=True)
class DueListing:
    """A listing to push, with what the adapter needs to address it on its channel."""

    state: ListingSyncState
    sku: Sku
    external_ids: Mapping[str, str]


class Listed(NamedTuple):
    """A listing's addressing and quantities, no more: what a first sync's plan and a
    reconciliation need for each of an account's (possibly millions of) listings."""

    listing: ListingId
    sku: Sku
    external_ids: Mapping[str, str]
    desired_qty: int
    desired_seq: int
    pushed_qty: int | None


class PushStatus(StrEnum):
    SUCCEEDED = "succeeded"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True, kw_only=True)
class PushOutcome:
    """What became of pushing `quantity` (reflecting `sequence`) to one listing.

    A failure keeps the listing dirty until `retry_at`, with `error` visible."""

    listing: ListingId
    quantity: int
    sequence: int
    status: PushStatus
    error: str | None = None
    retry_at: datetime | None = None


_COLUMNS = (
    "s.listing, s.account, s.desired_qty, s.desired_seq, s.priority, s.pushed_qty,"
    " s.pushed_seq, s.attempts, s.next_attempt_at, s.last_error"
)
_DUE_ORDER = " ORDER BY s.priority, s.desired_seq, s.listing"

# `dirty` is recomputed here, not by the trigger: desired may have moved while the push
# was in flight, and then the listing must stay dirty for the next pass.
_SUCCEEDED = BulkStatement(
    name="pushed",
    columns=(("listing", "text"), ("quantity", "bigint"), ("sequence", "bigint")),
    per_row="UPDATE listing_sync SET pushed_qty = ?2, pushed_seq = ?3, attempts = 0,"
    " next_attempt_at = NULL, last_error = NULL,"
    " dirty = CASE WHEN desired_qty <> ?2 THEN 1 ELSE 0 END WHERE listing = ?1",
    set_based="UPDATE listing_sync AS s SET pushed_qty = r.quantity, pushed_seq = r.sequence,"
    " attempts = 0, next_attempt_at = NULL, last_error = NULL,"
    " dirty = CASE WHEN s.desired_qty <> r.quantity THEN 1 ELSE 0 END"
    " FROM {rows} AS r WHERE s.listing = r.listing",
)
_FAILED = BulkStatement(
    name="push_failed",
    columns=(("listing", "text"), ("error", "text"), ("retry_at", "timestamptz")),
    per_row="UPDATE listing_sync SET attempts = attempts + 1, last_error = ?2,"
    " next_attempt_at = ?3 WHERE listing = ?1",
    set_based="UPDATE listing_sync AS s SET attempts = s.attempts + 1, last_error = r.error,"
    " next_attempt_at = r.retry_at FROM {rows} AS r WHERE s.listing = r.listing",
)


# A reconciliation page's levels in one statement: those that match neither what was pushed
# nor what is desired become drift, as `observed` records it one by one.
_DRIFTED = BulkStatement(
    name="observed",
    columns=(("listing", "text"), ("quantity", "bigint")),
    per_row="UPDATE listing_sync SET pushed_qty = ?2, pushed_seq = NULL, dirty = 1,"
    " last_error = 'drift: the channel showed ' || ?2 || ' where omnistock had pushed '"
    " || COALESCE(pushed_qty, 'nothing')"
    " WHERE listing = ?1 AND pushed_qty IS NOT ?2 AND desired_qty <> ?2",
    set_based="UPDATE listing_sync AS s SET pushed_qty = r.quantity, pushed_seq = NULL,"
    " dirty = 1, last_error = 'drift: the channel showed ' || r.quantity"
    " || ' where omnistock had pushed ' || COALESCE(s.pushed_qty::text, 'nothing')"
    " FROM {rows} AS r WHERE s.listing = r.listing"
    " AND s.pushed_qty IS DISTINCT FROM r.quantity AND s.desired_qty <> r.quantity",
)


# A report of the desired quantity where omnistock had pushed another (the channel's own
# sale took it there, or a late report): compared against by the next write, which still
# goes (the report may predate a write still pending) — and which a compare-and-set
# platform then accepts instead of refusing it for the stale level it was told to expect.
_REPORTED_DESIRED = BulkStatement(
    name="reported_desired",
    columns=(("listing", "text"), ("quantity", "bigint")),
    per_row="UPDATE listing_sync SET pushed_qty = ?2, dirty = 1"
    " WHERE listing = ?1 AND desired_qty = ?2 AND pushed_qty IS NOT ?2",
    set_based="UPDATE listing_sync AS s SET pushed_qty = r.quantity, dirty = 1"
    " FROM {rows} AS r WHERE s.listing = r.listing AND s.desired_qty = r.quantity"
    " AND s.pushed_qty IS DISTINCT FROM r.quantity",
)


# What a channel said it shows when it refused a write: the pushed state from now on.
_SHOWS = BulkStatement(
    name="channel_shows",
    columns=(("listing", "text"), ("quantity", "bigint")),
    per_row="UPDATE listing_sync SET pushed_qty = ?2, pushed_seq = NULL,"
    " dirty = CASE WHEN desired_qty <> ?2 THEN 1 ELSE 0 END WHERE listing = ?1",
    set_based="UPDATE listing_sync AS s SET pushed_qty = r.quantity, pushed_seq = NULL,"
    " dirty = CASE WHEN s.desired_qty <> r.quantity THEN 1 ELSE 0 END"
    " FROM {rows} AS r WHERE s.listing = r.listing",
)


# A sale on a channel took its own level down by the units sold (every platform here does
# so at checkout): the next write compares against that, not the level before the sale.
# Only where the account lists the SKU once: with several listings, which one sold is not
# known. The listing becomes due: the level may have counted the sale already (a level
# report or a read came first), and only a write — refused, then read, if the expectation
# is wrong — settles it; a listing whose expected level merely equalled the desired one
# would otherwise get no write while the channel shows something else.
_SOLD_ON_CHANNEL = BulkStatement(
    name="sold_on_channel",
    columns=(("account", "text"), ("sku", "text"), ("quantity", "bigint")),
    per_row="UPDATE listing_sync SET pushed_qty = pushed_qty - ?3, dirty = 1"
    " WHERE pushed_qty IS NOT NULL AND listing IN (SELECT l.id FROM listings AS l"
    " WHERE l.account = ?1 AND l.sku = ?2 AND NOT EXISTS (SELECT 1 FROM listings AS o"
    " WHERE o.account = ?1 AND o.sku = ?2 AND o.id <> l.id))",
    set_based="UPDATE listing_sync AS s SET pushed_qty = s.pushed_qty - r.quantity, dirty = 1"
    " FROM {rows} AS r, listings AS l WHERE l.account = r.account AND l.sku = r.sku"
    " AND s.listing = l.id AND s.pushed_qty IS NOT NULL AND NOT EXISTS (SELECT 1"
    " FROM listings AS o WHERE o.account = l.account AND o.sku = l.sku AND o.id <> l.id)",
)


def clean_error(error: str | None) -> str:
    """A one-line, bounded error text for a failed push."""
    text = " ".join((error or "push failed").split())
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


class SyncStateRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def states(self, listings: Collection[ListingId]) -> dict[ListingId, ListingSyncState]:
        """The sync state of each listing that has one."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM listing_sync s WHERE {self._db.any_of('s.listing')}",
            (self._db.list_param(listings),),
        )
        return {row[0]: self._state(row) for row in rows}

    def dirty(self, account: AccountId, limit: int = 1000) -> list[ListingSyncState]:
        """The account's dirty listings, most urgent first (see planning.Priority)."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM listing_sync s WHERE s.account = ? AND s.dirty = 1"
            f"{_DUE_ORDER} LIMIT ?",
            (account, limit),
        )
        return [self._state(row) for row in rows]

    def due(self, account: AccountId, now: datetime, limit: int = 1000) -> list[DueListing]:
        """The account's dirty listings whose next attempt is not after `now`, most urgent
        first (priority, then the sequence they reflect), with the catalog ids to push."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS}, l.sku, l.external_ids FROM listing_sync s"
            " JOIN listings l ON l.id = s.listing WHERE s.account = ? AND s.dirty = 1"
            f" AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= ?){_DUE_ORDER} LIMIT ?",
            (account, self._time(now), limit),
        )
        return [self._due(row) for row in rows]

    def next_due(self, account: AccountId, now: datetime) -> datetime | None:
        """When the account's next dirty listing falls due (`now` or earlier if one is due
        already); None when nothing is dirty."""
        # One step down the (account, next_attempt_at) index of dirty rows, not a scan of
        # them all: a row with no retry time (due now) sorts first.
        rows = self._db.rows(
            "SELECT next_attempt_at FROM listing_sync WHERE account = ? AND dirty = 1"
            " ORDER BY next_attempt_at NULLS FIRST LIMIT 1",
            (account,),
        )
        if not rows:
            return None
        [(earliest,)] = rows
        return now if earliest is None else self._db.decode_time(earliest)

    def listed(
        self, account: AccountId, after: ListingId | None = None, limit: int = 1000
    ) -> list[DueListing]:
        """Every listing of the account with a sync state, dirty or not, by listing id
        after `after` (keyset pages), for a first sync's dry run."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS}, l.sku, l.external_ids FROM listing_sync s"
            " JOIN listings l ON l.id = s.listing WHERE s.account = ? AND s.listing > ?"
            " ORDER BY s.listing LIMIT ?",
            (account, after or "", limit),
        )
        return [self._due(row) for row in rows]

    def listed_slim(
        self, account: AccountId, after: ListingId | None = None, limit: int = 1000
    ) -> list[Listed]:
        """`listed` with only what is needed to write or read each listing back: the same
        pages, several times cheaper per row."""
        rows = self._db.rows(
            "SELECT s.listing, l.sku, l.external_ids, s.desired_qty, s.desired_seq,"
            " s.pushed_qty FROM listing_sync s JOIN listings l ON l.id = s.listing"
            " WHERE s.account = ? AND s.listing > ? ORDER BY s.listing LIMIT ?",
            (account, after or "", limit),
        )
        return [
            Listed(listing, sku, decode_mapping(ids), desired, seq, pushed)
            for listing, sku, ids, desired, seq, pushed in rows
        ]

    def of_skus(self, account: AccountId, skus: Collection[Sku]) -> list[DueListing]:
        """The account's listings of these SKUs, with their sync state, by listing id."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS}, l.sku, l.external_ids FROM listing_sync s"
            " JOIN listings l ON l.id = s.listing"
            f" WHERE s.account = ? AND {self._db.any_of('l.sku')} ORDER BY s.listing",
            (account, self._db.list_param(skus)),
        )
        return [self._due(row) for row in rows]

    def record(self, outcomes: Sequence[PushOutcome]) -> None:
        """Apply a batch of push outcomes in one transaction. A success sets what the
        channel shows and clears the failure count; a failure counts an attempt, keeps the
        listing dirty and schedules it at `retry_at` with its error visible."""
        succeeded = [o for o in outcomes if o.status is PushStatus.SUCCEEDED]
        failed = [o for o in outcomes if o.status is not PushStatus.SUCCEEDED]
        with self._db.transaction():
            self._db.run_bulk(_SUCCEEDED, [(o.listing, o.quantity, o.sequence) for o in succeeded])
            self._db.run_bulk(_FAILED, [self._failed_row(o) for o in failed])

    def unknown_stock(self, listings: Collection[ListingId]) -> list[ListingId]:
        """The listings among `listings` whose stock no ledger event has ever told: their
        SKU has no balance anywhere, nor (for a bundle) has one of its components."""
        if not listings:
            return []
        db = self._db
        rows = db.rows(
            f"SELECT l.id FROM listings l WHERE {db.any_of('l.id')}"
            " AND NOT EXISTS (SELECT 1 FROM balances b WHERE b.sku = l.sku)"
            " AND (NOT EXISTS (SELECT 1 FROM bundle_components c WHERE c.bundle = l.sku)"
            "  OR EXISTS (SELECT 1 FROM bundle_components c WHERE c.bundle = l.sku"
            "   AND NOT EXISTS (SELECT 1 FROM balances b WHERE b.sku = c.component)))",
            (db.list_param(list(listings)),),
        )
        return [ListingId(listing) for (listing,) in rows]

    def hold_unknown(self, listings: Collection[ListingId]) -> list[ListingId]:
        """Hold back the listings among `listings` whose stock is unknown (not dirty, held
        'no stock known', nothing pushed) and return them: a fresh ledger must not push
        zeros over what the channel shows. Their SKU's first event releases them."""
        with self._db.transaction():
            unknown = self.unknown_stock(listings)
            if unknown:
                db = self._db
                db.run(
                    f"UPDATE listing_sync SET dirty = 0, held = ? WHERE {db.any_of('listing')}",
                    (NO_STOCK_KNOWN, db.list_param(unknown)),
                )
            return unknown

    def held(self, account: AccountId, limit: int = 1000) -> list[ListingId]:
        """The account's listings held back, and not pushed, because no stock is known."""
        rows = self._db.rows(
            "SELECT listing FROM listing_sync WHERE account = ? AND held IS NOT NULL"
            " ORDER BY listing LIMIT ?",
            (account, limit),
        )
        return [ListingId(listing) for (listing,) in rows]

    def resync(self, account: AccountId) -> int:
        """Mark every listing of the account dirty and due now (a first or forced full
        sync); return how many there are."""
        with self._db.transaction():
            return self._db.run(
                "UPDATE listing_sync SET dirty = 1, attempts = 0, next_attempt_at = NULL"
                " WHERE account = ?",
                (account,),
            )

    def observed(self, listing: ListingId, quantity: int) -> bool:
        """Record that the channel shows `quantity` for `listing` (a webhook or a read).

        A quantity other than both the pushed and the desired one is drift: it becomes the
        pushed state with no ledger sequence (omnistock did not write it), so the listing
        turns dirty. A report of the desired quantity does not make the listing clean: it
        may be older than the push still pending (webhooks arrive late and out of order),
        and taking it for the truth would leave the channel wrong with nothing left to fix
        it; re-sending the absolute quantity is harmless. It becomes what the next write
        compares against (a compare-and-set platform's own sale took the level there, and a
        write expecting the level before the sale would be refused). Returns whether it
        was drift. Raises UnknownEntityError for a listing without sync state."""
        with self._db.transaction():
            state = self.states([listing]).get(listing)
            if state is None:
                raise UnknownEntityError("listing", listing)
            if quantity == state.desired_qty:
                self._db.run_bulk(_REPORTED_DESIRED, [(listing, quantity)])
                return False
            if quantity == state.pushed_qty:
                return False
            before = "nothing" if state.pushed_qty is None else str(state.pushed_qty)
            error = f"drift: the channel showed {quantity} where omnistock had pushed {before}"
            self._db.run(
                "UPDATE listing_sync SET pushed_qty = ?, pushed_seq = NULL, dirty = 1,"
                " last_error = ? WHERE listing = ?",
                (quantity, error, listing),
            )
            return True

    def observed_many(self, levels: Sequence[tuple[ListingId, int]]) -> int:
        """`observed` for many listings in one transaction (a reconciliation page); a
        listing without sync state is skipped. Returns how many were drift."""
        with self._db.transaction():
            self._db.run_bulk(_REPORTED_DESIRED, levels)
            return self._db.run_bulk(_DRIFTED, levels)

    def channel_shows(self, levels: Sequence[tuple[ListingId, int]]) -> None:
        """What the channel answered it shows, for writes it refused: the next write of
        each listing compares against it (a listing already showing the desired quantity
        needs none)."""
        with self._db.transaction():
            self._db.run_bulk(_SHOWS, levels)

    def sold_on_channel(self, sales: Mapping[tuple[AccountId, Sku], int]) -> int:
        """Units sold on a compare-and-set channel, by account and SKU (orders placed
        there): its own level went down by that many, so the next write expects the lower
        level, and is due (see _SOLD_ON_CHANNEL). Returns how many listings changed."""
        rows = [(account, sku, quantity) for (account, sku), quantity in sales.items()]
        if not rows:
            return 0
        with self._db.transaction():
            return self._db.run_bulk(_SOLD_ON_CHANNEL, rows)

    def drift(self, account: AccountId) -> list[ListingSyncState]:
        """Listings of the account whose channel shows a quantity that omnistock did not
        write and has not overwritten yet (recorded by `observed`)."""
        rows = self._db.rows(
            f"SELECT {_COLUMNS} FROM listing_sync s WHERE s.account = ?"
            " AND s.pushed_qty IS NOT NULL AND s.pushed_seq IS NULL ORDER BY s.listing",
            (account,),
        )
        return [self._state(row) for row in rows]

    def _failed_row(self, outcome: PushOutcome) -> tuple[object, ...]:
        retry_at = None if outcome.retry_at is None else self._time(outcome.retry_at)
        return (outcome.listing, clean_error(outcome.error), retry_at)

    def _time(self, value: datetime) -> object:
        # One zone for every stored time: SQLite compares them as ISO text.
        return self._db.encode_time(value.astimezone(UTC))

    def _due(self, row: Row) -> DueListing:
        return DueListing(self._state(row[:10]), row[10], decode_mapping(row[11]))

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
