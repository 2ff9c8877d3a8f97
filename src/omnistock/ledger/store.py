"""The ledger's async port: catalog, journal and sync state over one database connection.

Each store runs its database work on one dedicated thread, so the event loop never blocks
and the connection is never shared between threads (as aiosqlite does for SQLite)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TypeVar

from omnistock.clock import Clock, SystemClock
from omnistock.domain.balance import Balance, ReservationPolicy
from omnistock.domain.bundles import Bundle
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.errors import ConfigError
from omnistock.domain.events import LedgerEvent
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ledger.catalog import CatalogRepo
from omnistock.ledger.database import Database
from omnistock.ledger.inbox import (
    DEFAULT_LEASE_S,
    InboxCounts,
    InboxItem,
    InboxMessage,
    Incident,
    IngestRecords,
    KnownKeys,
    SqlInbox,
)
from omnistock.ledger.journal import AppendResult, Checked, Journal, StoredEvent
from omnistock.ledger.migrations import migrate
from omnistock.ledger.notifications import (
    DueDelivery,
    Feed,
    Notification,
    NotificationRepo,
    Subscription,
    Topic,
)
from omnistock.ledger.reservations import Reservation, ReservationLine, ReservationRepo
from omnistock.ledger.sync_state import (
    DueListing,
    Listed,
    ListingSyncState,
    PushOutcome,
    SyncStateRepo,
)
from omnistock.ledger.tokens import StoredToken, TokenRepo
from omnistock.ledger.verify import VerifyReport, verify

T = TypeVar("T")


def connect(url: str) -> Database:
    """Open the database a URL names: `sqlite:///relative.db`, `sqlite:////abs.db`,
    `sqlite://` (in memory) or `postgresql://…`."""
    if url == "sqlite://":
        from omnistock.ledger.sqlite import SqliteDatabase

        return SqliteDatabase(":memory:")
    if url.startswith("sqlite:///"):
        from omnistock.ledger.sqlite import SqliteDatabase

        return SqliteDatabase(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        from omnistock.ledger.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ConfigError(f"unsupported database URL scheme: {url.split(':', 1)[0]!r}")


class _Worker:
    """Runs blocking database calls, in order, on the store's own thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="omnistock-store")

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


class Catalog:
    """Async access to the catalog (see CatalogRepo for each method's contract)."""

    def __init__(self, worker: _Worker, repo: CatalogRepo) -> None:
        self._worker = worker
        self._repo = repo

    async def put_location(self, location: Location) -> None:
        await self._worker.call(self._repo.put_location, location)

    async def put_items(self, items: Collection[Item]) -> None:
        await self._worker.call(self._repo.put_items, items)

    async def put_bundle(self, bundle: Bundle) -> None:
        await self._worker.call(self._repo.put_bundle, bundle)

    async def put_account(self, account: ChannelAccount) -> None:
        await self._worker.call(self._repo.put_account, account)

    async def put_listings(self, listings: Collection[Listing]) -> None:
        await self._worker.call(self._repo.put_listings, listings)

    async def locations(self) -> list[Location]:
        return await self._worker.call(self._repo.locations)

    async def items(self) -> list[Item]:
        return await self._worker.call(self._repo.items)

    async def check_items(self, skus: Collection[Sku]) -> None:
        await self._worker.call(self._repo.check_items, skus)

    async def bundles(self) -> list[Bundle]:
        return await self._worker.call(self._repo.bundles)

    async def accounts(self) -> list[ChannelAccount]:
        return await self._worker.call(self._repo.accounts)

    async def listings(self, account: AccountId | None = None) -> list[Listing]:
        return await self._worker.call(self._repo.listings, account)


class Ledger:
    """Async access to the journal (see Journal for each method's contract)."""

    def __init__(self, worker: _Worker, journal: Journal) -> None:
        self._worker = worker
        self._journal = journal

    async def append(
        self,
        events: Sequence[LedgerEvent],
        expected_versions: Mapping[Sku, int] | None = None,
        *,
        all_or_none: bool = False,
    ) -> list[AppendResult]:
        append = functools.partial(self._journal.append, all_or_none=all_or_none)
        return await self._worker.call(append, events, expected_versions)

    async def append_checked(self, items: Sequence[Checked]) -> list[AppendResult]:
        return await self._worker.call(self._journal.append_checked, items)

    async def read(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        return await self._worker.call(self._journal.read, after, limit)

    async def balances(self, skus: Collection[Sku]) -> dict[Sku, dict[LocationId, Balance]]:
        return await self._worker.call(self._journal.balances, skus)

    async def versions(self, skus: Collection[Sku]) -> dict[Sku, int]:
        return await self._worker.call(self._journal.versions, skus)


class SyncStates:
    """Async access to listing sync state (see SyncStateRepo)."""

    def __init__(self, worker: _Worker, repo: SyncStateRepo) -> None:
        self._worker = worker
        self._repo = repo

    async def get(self, listings: Collection[ListingId]) -> dict[ListingId, ListingSyncState]:
        return await self._worker.call(self._repo.states, listings)

    async def dirty(self, account: AccountId, limit: int = 1000) -> list[ListingSyncState]:
        return await self._worker.call(self._repo.dirty, account, limit)

    async def due(self, account: AccountId, now: datetime, limit: int = 1000) -> list[DueListing]:
        return await self._worker.call(self._repo.due, account, now, limit)

    async def next_due(self, account: AccountId, now: datetime) -> datetime | None:
        return await self._worker.call(self._repo.next_due, account, now)

    async def listed(
        self, account: AccountId, after: ListingId | None = None, limit: int = 1000
    ) -> list[DueListing]:
        return await self._worker.call(self._repo.listed, account, after, limit)

    async def listed_slim(
        self, account: AccountId, after: ListingId | None = None, limit: int = 1000
    ) -> list[Listed]:
        return await self._worker.call(self._repo.listed_slim, account, after, limit)

    async def channel_shows(self, levels: Sequence[tuple[ListingId, int]]) -> None:
        await self._worker.call(self._repo.channel_shows, levels)

    async def observed_many(self, levels: Sequence[tuple[ListingId, int]]) -> int:
        return await self._worker.call(self._repo.observed_many, levels)

    async def sold_on_channel(self, sales: Mapping[tuple[AccountId, Sku], int]) -> int:
        return await self._worker.call(self._repo.sold_on_channel, sales)

    async def of_skus(self, account: AccountId, skus: Collection[Sku]) -> list[DueListing]:
        return await self._worker.call(self._repo.of_skus, account, skus)

    async def record(self, outcomes: Sequence[PushOutcome]) -> None:
        await self._worker.call(self._repo.record, outcomes)

    async def resync(self, account: AccountId) -> int:
        return await self._worker.call(self._repo.resync, account)

    async def observed(self, listing: ListingId, quantity: int) -> bool:
        return await self._worker.call(self._repo.observed, listing, quantity)

    async def drift(self, account: AccountId) -> list[ListingSyncState]:
        return await self._worker.call(self._repo.drift, account)


class Tokens:
    """Async access to stored API tokens (see TokenRepo)."""

    def __init__(self, worker: _Worker, repo: TokenRepo) -> None:
        self._worker = worker
        self._repo = repo

    async def create(self, name: str, scope: str, digest: str, now: datetime) -> None:
        await self._worker.call(self._repo.create, name, scope, digest, now)

    async def find(self, digest: str) -> StoredToken | None:
        return await self._worker.call(self._repo.find, digest)

    async def revoke(self, name: str) -> bool:
        return await self._worker.call(self._repo.revoke, name)

    async def all(self) -> list[StoredToken]:
        return await self._worker.call(self._repo.all)


class InboxFacade:
    """Async access to the durable inbox and ingestion's records (see ledger.inbox: SqlInbox
    and IngestRecords for each method's contract). Leases run on the system clock: they
    measure how long a processor may be silent, in real time."""

    def __init__(self, worker: _Worker, db: Database) -> None:
        self._worker = worker
        self._inbox = SqlInbox(db, SystemClock())
        self._records = IngestRecords(db, SystemClock())

    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        return await self._worker.call(self._inbox.put, messages)

    async def take(self, limit: int, lease: float = DEFAULT_LEASE_S) -> list[InboxItem]:
        return await self._worker.call(self._inbox.take, limit, lease)

    async def ack(self, ids: Collection[int]) -> None:
        await self._worker.call(self._inbox.ack, ids)

    async def fail(self, item_id: int, error: str, retry_at: datetime) -> bool:
        return await self._worker.call(self._inbox.fail, item_id, error, retry_at)

    async def parked(self, limit: int = 100) -> list[InboxItem]:
        return await self._worker.call(self._inbox.parked, limit)

    async def counts(self) -> InboxCounts:
        return await self._worker.call(self._inbox.counts)

    async def known(self, keys: Collection[str]) -> KnownKeys:
        return await self._worker.call(self._records.known, keys)

    async def mark(self, keys: Collection[str]) -> None:
        await self._worker.call(self._records.mark, keys)

    async def cursor(self, account: AccountId) -> str | None:
        return await self._worker.call(self._records.cursor, account)

    async def save_cursor(self, account: AccountId, cursor: str) -> None:
        await self._worker.call(self._records.save_cursor, account, cursor)

    async def record_incidents(self, incidents: Sequence[Incident]) -> list[bool]:
        return await self._worker.call(self._records.record_incidents, incidents)

    async def incidents(self, limit: int = 100) -> list[Incident]:
        return await self._worker.call(self._records.incidents, limit)

    async def incidents_after(self, position: int, limit: int = 100) -> list[Incident]:
        return await self._worker.call(self._records.incidents_after, position, limit)


class Reservations:
    """Async access to checkout reservations (see ReservationRepo)."""

    def __init__(self, worker: _Worker, repo: ReservationRepo) -> None:
        self._worker = worker
        self._repo = repo

    async def hold(
        self,
        rid: str,
        lines: Sequence[ReservationLine],
        ttl: timedelta,
        source: str,
        now: datetime,
    ) -> Reservation:
        return await self._worker.call(self._repo.hold, rid, lines, ttl, source, now)

    async def confirm(self, rid: str) -> Reservation:
        return await self._worker.call(self._repo.confirm, rid)

    async def release(self, rid: str, now: datetime) -> Reservation:
        return await self._worker.call(self._repo.release, rid, now)

    async def get(self, rid: str) -> Reservation | None:
        return await self._worker.call(self._repo.get, rid)

    async def expire_due(self, now: datetime) -> list[str]:
        return await self._worker.call(self._repo.expire_due, now)


class Notifications:
    """Async access to the notification outbox (see NotificationRepo)."""

    def __init__(self, worker: _Worker, repo: NotificationRepo) -> None:
        self._worker = worker
        self._repo = repo

    async def publish(self, topic: Topic, payload: Mapping[str, object], now: datetime) -> int:
        return await self._worker.call(self._repo.publish, topic, payload, now)

    async def feed_position(self, feed: Feed) -> int:
        return await self._worker.call(self._repo.feed_position, feed)

    async def publish_feed(
        self,
        feed: Feed,
        after: int,
        through: int,
        facts: Sequence[tuple[Topic, Mapping[str, object]]],
        now: datetime,
    ) -> bool:
        return await self._worker.call(self._repo.publish_feed, feed, after, through, facts, now)

    async def subscribe(self, url: str, topics: frozenset[Topic]) -> tuple[Subscription, str]:
        return await self._worker.call(self._repo.subscribe, url, topics)

    async def unsubscribe(self, sid: str) -> bool:
        return await self._worker.call(self._repo.unsubscribe, sid)

    async def subscriptions(self) -> list[Subscription]:
        return await self._worker.call(self._repo.subscriptions)

    async def last_id(self) -> int:
        return await self._worker.call(self._repo.last_id)

    async def after(self, last_id: int, limit: int = 100) -> list[Notification]:
        return await self._worker.call(self._repo.after, last_id, limit)

    async def due(self, now: datetime, limit: int = 100) -> list[DueDelivery]:
        return await self._worker.call(self._repo.due, now, limit)

    async def delivered(self, subscription: str, notification: int) -> None:
        await self._worker.call(self._repo.delivered, subscription, notification)

    async def retry(self, subscription: str, notification: int, error: str, at: datetime) -> None:
        await self._worker.call(self._repo.retry, subscription, notification, error, at)

    async def give_up(self, subscription: str, notification: int, error: str) -> None:
        await self._worker.call(self._repo.give_up, subscription, notification, error)


class Store:
    """The ledger store: `catalog`, `ledger` and `sync` share one connection and thread."""

    def __init__(self, db: Database, worker: _Worker, journal: Journal) -> None:
        self._db = db
        self._worker = worker
        self._journal = journal
        self.catalog = Catalog(worker, CatalogRepo(db))
        self.ledger = Ledger(worker, journal)
        self.sync = SyncStates(worker, SyncStateRepo(db))
        self.tokens = Tokens(worker, TokenRepo(db))
        self.reservations = Reservations(worker, ReservationRepo(db, journal))
        self.notifications = Notifications(worker, NotificationRepo(db))
        self.inbox = InboxFacade(worker, db)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock | None = None,
        policy: ReservationPolicy = ReservationPolicy.REJECT,
    ) -> Store:
        """Connect and apply pending migrations."""
        worker = _Worker()
        db = await worker.call(connect, url)
        await worker.call(migrate, db)
        return cls(db, worker, Journal(db, clock or SystemClock(), policy))

    @property
    def dialect(self) -> str:
        return self._db.name

    async def verify(self) -> VerifyReport:
        """Rebuild every projection from the log and compare (see ledger.verify)."""
        return await self._worker.call(verify, self._db, self._journal)

    async def close(self) -> None:
        await self._worker.call(self._db.close)
        self._worker.shutdown()
