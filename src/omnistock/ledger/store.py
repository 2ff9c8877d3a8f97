"""The ledger's async port: catalog, journal and sync state over one database connection.

Each store runs its database work on one dedicated thread, so the event loop never blocks
and the connection is never shared between threads (as aiosqlite does for SQLite)."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, Generic, Literal, ParamSpec, Self, TypeVar, overload

from omnistock.clock import Clock, SystemClock
from omnistock.domain.balance import ReservationPolicy
from omnistock.domain.errors import ConfigError
from omnistock.ledger.catalog import CatalogRepo
from omnistock.ledger.database import Database
from omnistock.ledger.discovery import DiscoveryRepo
from omnistock.ledger.inbox import SqlInbox
from omnistock.ledger.journal import AppendResult, Checked, Journal
from omnistock.ledger.migrations import (
    MigrationStatus,
    SchemaNotReadyError,
    migrate,
    require_current,
)
from omnistock.ledger.migrations import status as migration_status
from omnistock.ledger.notifications import (
    NotificationRepo,
)
from omnistock.ledger.reservations import ReservationRepo
from omnistock.ledger.sync_state import (
    SyncStateRepo,
)
from omnistock.ledger.tokens import TokenRepo
from omnistock.ledger.verify import VerifyReport, verify

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


# What Store.open does with the schema it finds (see there).
OnOpen = Literal["migrate", "connect", "require", "inspect"]


def _require_exists(url: str) -> None:
    """A SQLite file must exist before a command that only reads or edits it opens it
    (connecting would create an empty one); a server database says so when connecting."""
    if url == "sqlite://":
        raise SchemaNotReadyError("an in-memory database has no omnistock schema")
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise SchemaNotReadyError(
                f"no database at {path}; create it with `omnistock db migrate` "
                "(or check --db, OMNISTOCK_DATABASE_URL and the config's database_url)"
            )


def display_url(url: str) -> str:
    """The database as a message names it: its file, or its URL without a password."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


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

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


class _Async(Generic[R]):
    """Async access to a repository whose every method is a transaction script: each
    `forward(Repo.method)` runs it on the store's thread, with the method's own signature
    (and contract: see the repository's docstrings)."""

    def __init__(self, worker: _Worker, repo: R) -> None:
        self._worker = worker
        self._repo = repo


class forward(Generic[R, P, T]):  # noqa: N801 - used as a decorator-like declaration
    """`name = forward(Repo.method)` in an `_Async[Repo]`: the awaitable twin of
    `repo.method`, checked by mypy at every call like the method itself."""

    def __init__(self, method: Callable[Concatenate[R, P], T]) -> None:
        self._method = method

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...
    @overload
    def __get__(self, instance: _Async[R], owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(
        self, instance: _Async[R] | None, owner: type
    ) -> Self | Callable[P, Coroutine[Any, Any, T]]:
        if instance is None:
            return self
        method, worker, repo = self._method, instance._worker, instance._repo

        async def call(*args: P.args, **kwargs: P.kwargs) -> T:
            return await worker.call(method, repo, *args, **kwargs)

        return call


class Catalog(_Async[CatalogRepo]):
    put_location = forward(CatalogRepo.put_location)
    put_items = forward(CatalogRepo.put_items)
    put_bundle = forward(CatalogRepo.put_bundle)
    put_account = forward(CatalogRepo.put_account)
    put_listings = forward(CatalogRepo.put_listings)
    apply_batch = forward(CatalogRepo.apply_batch)
    index = forward(CatalogRepo.index)
    export = forward(CatalogRepo.export)
    locations = forward(CatalogRepo.locations)
    items = forward(CatalogRepo.items)
    check_items = forward(CatalogRepo.check_items)
    bundles = forward(CatalogRepo.bundles)
    accounts = forward(CatalogRepo.accounts)
    listings = forward(CatalogRepo.listings)


class Ledger(_Async[Journal]):
    append = forward(Journal.append)
    read = forward(Journal.read)
    balances = forward(Journal.balances)
    versions = forward(Journal.versions)

    async def append_checked(self, items: Sequence[Checked]) -> list[AppendResult]:
        # The event API's hot path: one call less than a forwarder per request.
        return await self._worker.call(self._repo.append_checked, items)


class SyncStates(_Async[SyncStateRepo]):
    get = forward(SyncStateRepo.states)
    dirty = forward(SyncStateRepo.dirty)
    due = forward(SyncStateRepo.due)
    next_due = forward(SyncStateRepo.next_due)
    listed = forward(SyncStateRepo.listed)
    listed_slim = forward(SyncStateRepo.listed_slim)
    channel_shows = forward(SyncStateRepo.channel_shows)
    observed_many = forward(SyncStateRepo.observed_many)
    sold_on_channel = forward(SyncStateRepo.sold_on_channel)
    of_skus = forward(SyncStateRepo.of_skus)
    record = forward(SyncStateRepo.record)
    resync = forward(SyncStateRepo.resync)
    observed = forward(SyncStateRepo.observed)
    drift = forward(SyncStateRepo.drift)
    unknown_stock = forward(SyncStateRepo.unknown_stock)
    hold_unknown = forward(SyncStateRepo.hold_unknown)
    held = forward(SyncStateRepo.held)


class Discovery(_Async[DiscoveryRepo]):
    begin = forward(DiscoveryRepo.begin)
    run_of = forward(DiscoveryRepo.run_of)
    save_page = forward(DiscoveryRepo.save_page)
    listings = forward(DiscoveryRepo.listings)
    count = forward(DiscoveryRepo.count)


class Tokens(_Async[TokenRepo]):
    create = forward(TokenRepo.create)
    find = forward(TokenRepo.find)
    revoke = forward(TokenRepo.revoke)
    all = forward(TokenRepo.all)


class EmbeddedInbox(_Async[SqlInbox]):
    """The Inbox port (bus.inbox) on the ledger database. Leases run on the system clock:
    they measure how long a processor may be silent, in real time."""

    put = forward(SqlInbox.put)
    take = forward(SqlInbox.take)
    ack = forward(SqlInbox.ack)
    fail = forward(SqlInbox.fail)
    parked = forward(SqlInbox.parked)
    counts = forward(SqlInbox.counts)
    known = forward(SqlInbox.known)
    settle = forward(SqlInbox.settle)
    cursor = forward(SqlInbox.cursor)
    save_cursor = forward(SqlInbox.save_cursor)
    incidents = forward(SqlInbox.incidents)
    incidents_after = forward(SqlInbox.incidents_after)


class Reservations(_Async[ReservationRepo]):
    hold = forward(ReservationRepo.hold)
    confirm = forward(ReservationRepo.confirm)
    release = forward(ReservationRepo.release)
    get = forward(ReservationRepo.get)
    expire_due = forward(ReservationRepo.expire_due)


class Notifications(_Async[NotificationRepo]):
    publish = forward(NotificationRepo.publish)
    feed_position = forward(NotificationRepo.feed_position)
    publish_feed = forward(NotificationRepo.publish_feed)
    subscribe = forward(NotificationRepo.subscribe)
    unsubscribe = forward(NotificationRepo.unsubscribe)
    subscriptions = forward(NotificationRepo.subscriptions)
    last_id = forward(NotificationRepo.last_id)
    after = forward(NotificationRepo.after)
    due = forward(NotificationRepo.due)
    delivered = forward(NotificationRepo.delivered)
    retry = forward(NotificationRepo.retry)
    give_up = forward(NotificationRepo.give_up)


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
        self.discovery = Discovery(worker, DiscoveryRepo(db))
        self.reservations = Reservations(worker, ReservationRepo(db, journal))
        self.notifications = Notifications(worker, NotificationRepo(db))
        self.inbox = EmbeddedInbox(worker, SqlInbox(db, SystemClock(), journal))

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock | None = None,
        policy: ReservationPolicy = ReservationPolicy.REJECT,
        schema: OnOpen = "migrate",
    ) -> Store:
        """Connect, then: apply pending migrations (`migrate`, creating a SQLite file that
        does not exist); or nothing (`connect`, creating it: `db migrate` migrates itself);
        or refuse a database that does not exist, has no omnistock schema or has pending
        migrations (`require`: SchemaNotReadyError, nothing created); or only refuse one
        that does not exist (`inspect`, for `db status`)."""
        if schema in ("require", "inspect"):
            _require_exists(url)
        worker = _Worker()
        db = await worker.call(connect, url)
        try:
            if schema == "migrate":
                await worker.call(migrate, db)
            elif schema == "require":
                await worker.call(require_current, db, display_url(url))
        except BaseException:
            await worker.call(db.close)
            worker.shutdown()
            raise
        return cls(db, worker, Journal(db, clock or SystemClock(), policy))

    async def migration_status(self) -> MigrationStatus:
        return await self._worker.call(migration_status, self._db)

    async def migrate(self) -> list[str]:
        """Apply pending migrations; the names applied now."""
        return await self._worker.call(migrate, self._db)

    @property
    def dialect(self) -> str:
        return self._db.name

    async def verify(self) -> VerifyReport:
        """Rebuild every projection from the log and compare (see ledger.verify)."""
        return await self._worker.call(verify, self._db, self._journal)

    async def close(self) -> None:
        await self._worker.call(self._db.close)
        self._worker.shutdown()
