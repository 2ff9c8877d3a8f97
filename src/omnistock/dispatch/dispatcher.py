"""The dispatcher of one channel account: pushes the latest desired quantity of its dirty
listings, most urgent first, in the platform's batches, retrying and never dropping work.

Level-triggered: every pass reads the current desired state, so any number of changes to
a listing since its last push coalesce into one write of the newest quantity."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from omnistock.adapters.base import (
    ChannelAdapter,
    DailyQuota,
    GroupsWrites,
    ItemResult,
    ItemStatus,
    ListingRef,
    ObservedLevel,
    RateBurst,
    ServerPaced,
    StockUpdate,
)
from omnistock.adapters.ratelimit import RateLimiter
from omnistock.clock import Clock, Hold, Timer, first_of
from omnistock.dispatch.batching import (
    by_risk,
    may_linger,
    pack,
    pack_grouped,
    ref_of,
    update_of,
)
from omnistock.dispatch.circuit import CircuitBreaker, CircuitSettings
from omnistock.dispatch.report import DispatchReport, FirstSyncReport
from omnistock.dispatch.retry import Backoff, RetryPolicy
from omnistock.domain.errors import AuthFailedError, ChannelError
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.ledger.store import Store
from omnistock.ledger.sync_state import DueListing, Listed, PushOutcome

logger = logging.getLogger(__name__)


# A poll waits this long, then asks again, while pushes are in progress.
POLL_YIELD_S = 0.2
# How far past a pass's limit it looks for the due listings of the write groups it took.
GROUP_LOOKAHEAD = 10
RECONCILE_PAGE = 5_000  # listings read from the store (and the channel) per step, in a
# first sync's plan and a reconciliation


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchSettings:
    linger: float = 0.05  # seconds increases may wait for a fuller batch (0: never)
    take: int = 1000  # due listings read per pass
    idle: float = 30.0  # longest wait with nothing due: bounds the cost of a missed wake()
    min_wait: float = 0.05  # floor between passes that pushed nothing: never busy-spin
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    circuit: CircuitSettings = field(default_factory=CircuitSettings)
    # A zero for a SKU no ledger event has ever told of is held back, not pushed: a fresh
    # ledger would otherwise zero a channel that still shows the merchant's real stock.
    # False: push it (the operator says the ledger is the whole truth).
    hold_unknown_stock: bool = True

    def __post_init__(self) -> None:
        if self.take < 1 or self.linger < 0 or self.idle <= 0 or self.min_wait <= 0:
            raise ValueError("need take >= 1, linger >= 0, idle > 0 and min_wait > 0")


class AccountDispatcher:
    """Pushes one account's dirty listings through its adapter (one dispatcher per account:
    the platform's rate limit belongs to the account)."""

    def __init__(
        self,
        account: AccountId,
        adapter: ChannelAdapter,
        store: Store,
        timer: Timer,
        clock: Clock,
        *,
        settings: DispatchSettings | None = None,
        limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._account = account
        self._adapter = adapter
        self._store = store
        self._timer = timer
        self._clock = clock
        self._settings = settings or DispatchSettings()
        self._limiter = limiter  # the adapter's, when shared: its pauses pace our passes
        self._backoff = Backoff(self._settings.retry, rng or random.Random())
        self.circuit = CircuitBreaker(timer, self._settings.circuit)
        self._wake = asyncio.Event()
        self._hold = Hold()
        self.pushing = False
        self._to_verify: set[Sku] = set()
        self._to_confirm: dict[Sku, float] = {}  # accepted writes: read back at this time

    @property
    def account(self) -> AccountId:
        return self._account

    @property
    def max_batch(self) -> int:
        """The most listings one write to the account's channel can carry."""
        return self._adapter.capabilities.max_batch

    def wake(self) -> None:
        """New dirty listings were recorded: start a pass now instead of at the next due time."""
        self._wake.set()

    def verify(self, skus: Sequence[Sku]) -> None:
        """Read these SKUs' listings back from the channel at the start of the next pass:
        something moved their level there without a ledger change (see ingest.orders)."""
        self._to_verify.update(skus)
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set, waiting in between for the next due time,
        a `wake()`, or the end of a pause (limiter, open circuit); never busy-spins."""
        while not stop.is_set():
            if self._hold.held:
                await self._hold.released(stop)
                continue
            report = await self.run_once()
            await self._pause(await self._wait_after(report), stop)

    @contextmanager
    def held(self) -> Iterator[None]:
        """No pass starts meanwhile (one under way finishes): changes that arrive together
        in several appends (an import, a burst) are then pushed coalesced, once."""
        try:
            with self._hold.hold():
                yield
        finally:
            self._wake.set()

    async def run_once(self) -> DispatchReport:
        """One pass: push every listing due now, most urgent first, batch by batch, and
        record each item's outcome. Stops early when the circuit is (or goes) open."""
        self._wake.clear()  # a wake() from now on asks for another pass
        if self.circuit.retry_in() > 0:
            return DispatchReport(circuit_open=True)
        await self._verify()
        self.pushing = True
        try:
            due = by_risk(await self._take())
            chunked = self._one_call_each(len(due))
            batches = self._batches(due, chunked)
            in_flight = self._in_flight()
            if in_flight > 1:
                return await self._push_overlapped(batches, in_flight)
            report = DispatchReport()
            for batch in batches:
                if not self.circuit.allow():
                    return report + DispatchReport(circuit_open=True)
                report += await self._push(batch)
                if chunked and self._wake.is_set():
                    # New changes came while the calls went out one by one: the rest of
                    # this backlog waits for the next pass, sorted by risk together with
                    # them, so a listing just sold out does not wait behind it.
                    break
            return report
        finally:
            self.pushing = False

    def _in_flight(self) -> int:
        """Write calls the platform takes at once (a site that paces by the requests it
        is serving, a quota counted by the day); one where a rate meters the calls."""
        rate = self._adapter.capabilities.rate
        return rate.max_in_flight if isinstance(rate, ServerPaced | DailyQuota) else 1

    async def _push_overlapped(
        self, batches: Sequence[list[DueListing]], in_flight: int
    ) -> DispatchReport:
        """Push `batches` in order, `in_flight` calls at a time: with one call at a time
        the round trip, not the platform's capacity, bounded the rate (WooCommerce, eBay:
        ~1/RTT)."""
        reports: list[DispatchReport] = []
        slots = asyncio.Semaphore(in_flight)
        running: set[asyncio.Task[None]] = set()
        circuit_open = False

        async def push(batch: list[DueListing]) -> None:
            try:
                reports.append(await self._push(batch))
            finally:
                slots.release()

        try:
            async with asyncio.TaskGroup() as tg:
                for batch in batches:
                    await slots.acquire()
                    if running and self.circuit.consecutive_failures:
                        # Calls are failing: one at a time, so that the circuit counts
                        # each before the next goes (and a half-open probe goes alone).
                        await asyncio.wait(running)
                    if not self.circuit.allow():
                        slots.release()
                        circuit_open = True
                        break
                    task = tg.create_task(push(batch))
                    running.add(task)
                    task.add_done_callback(running.discard)
        except ExceptionGroup as failed:
            # What a failing push raises (not a channel's refusal: _push records those),
            # as pushing one call at a time would have raised it.
            raise failed.exceptions[0] from failed
        return sum(reports, DispatchReport()) + DispatchReport(circuit_open=circuit_open)

    def poll_delay(self) -> float:
        """How long the account's poller should hold off: while a pass is pushing (pushes
        go first in the rate budget) or the circuit is open (the channel is failing)."""
        return max(self.circuit.retry_in(), POLL_YIELD_S if self.pushing else 0.0)

    async def first_sync(self, *, dry_run: bool) -> FirstSyncReport:
        """Push every listing of the account once (an account just connected). With
        `dry_run`, return the writes it would make without calling the platform, and
        which listings it would hold back for want of any known stock."""
        every = await self._every_listing()
        unknown: set[ListingId] = set()
        if self._settings.hold_unknown_stock:
            zeros = [row.listing for row in every if row.desired_qty == 0]
            unknown = set(await self._store.sync.unknown_stock(zeros))
        updates = tuple(
            StockUpdate(
                ref=_ref(row),
                quantity=row.desired_qty,
                sequence=row.desired_seq,
                expected=row.pushed_qty,
            )
            for row in every
            if row.listing not in unknown
        )
        if dry_run:
            return FirstSyncReport(updates=updates, dry_run=True, held=tuple(sorted(unknown)))
        await self._store.sync.resync(self._account)
        total = DispatchReport()
        while True:
            report = await self.run_once()
            total += report
            if not report.pushed or report.circuit_open:
                return FirstSyncReport(updates=updates, dry_run=False, report=total)

    async def reconcile(self) -> int:
        """Read what the channel shows for every listing and record it; a level omnistock
        did not write is drift and is overwritten by the next pass. Returns the drift count.
        Raises ChannelError when the channel cannot be read."""
        drifted = 0
        listed = self._store.sync.listed_slim
        # Page by page, never the whole account in memory (millions of listings); the next
        # page is read from the store while the channel answers for this one.
        page = await listed(self._account, None, RECONCILE_PAGE)
        while page:
            ahead = asyncio.ensure_future(listed(self._account, page[-1].listing, RECONCILE_PAGE))
            try:
                # A write accepted but not applied yet (Amazon: seconds for a patch, minutes
                # for a feed) still shows the old level: that is no drift, and its read-back
                # comes when it should show.
                rows = [row for row in page if row.sku not in self._to_confirm]
                known = {row.listing: (row.pushed_qty, row.desired_qty) for row in rows}
                levels = await self._adapter.read([_ref(row) for row in rows]) if rows else []
                drifted += await self._record_levels(known, levels)
            except BaseException:
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)
                raise
            page = await ahead
        if drifted:
            self.wake()
        return drifted

    async def _verify(self) -> None:
        now = self._timer.monotonic()
        confirmed = [sku for sku, at in self._to_confirm.items() if at <= now]
        for sku in confirmed:
            del self._to_confirm[sku]
        self._to_verify.update(confirmed)
        if not self._to_verify:
            return
        skus, self._to_verify = self._to_verify, set()
        listings = await self._store.sync.of_skus(self._account, skus)
        try:
            for page in pack(listings, self._settings.take):
                known = {d.state.listing: (d.state.pushed_qty, d.state.desired_qty) for d in page}
                await self._record_levels(known, await self._adapter.read(_refs(page)))
        except ChannelError as error:
            # The periodic reconcile reads every listing anyway; a failing channel is the
            # circuit's business, not a reason to hold up the pushes.
            logger.info("%s: reading back %d SKUs failed: %s", self._account, len(skus), error)

    async def _record_levels(
        self,
        known: Mapping[ListingId, tuple[int | None, int]],
        levels: Sequence[ObservedLevel],
    ) -> int:
        """Record the levels that match neither the pushed nor the desired quantity `known`
        (the store checks again, in one transaction); returns the drift count."""
        suspects = [
            (level.listing, level.quantity)
            for level in levels
            if level.quantity is not None
            and (pair := known.get(level.listing)) is not None
            and level.quantity not in pair
        ]
        return await self._store.sync.observed_many(suspects) if suspects else 0

    async def _every_listing(self) -> list[Listed]:
        found: list[Listed] = []
        while page := await self._store.sync.listed_slim(
            self._account, found[-1].listing if found else None, RECONCILE_PAGE
        ):
            found.extend(page)
        return found

    async def _take(self) -> list[DueListing]:
        # At least one full write: a platform whose largest write is a bulk feed (Amazon,
        # 25,000 listings) must see the whole backlog to choose the feed over single calls.
        limit = max(self._settings.take, self._adapter.capabilities.max_batch)
        due = await self._due(limit)
        linger = self._settings.linger
        if linger > 0 and may_linger(due, self._adapter.capabilities.max_batch):
            await self._timer.sleep(linger)
            due = await self._due(limit)
        return await self._without_unknown_stock(due)

    async def _without_unknown_stock(self, due: list[DueListing]) -> list[DueListing]:
        """`due` less the zeros held back because no stock is known for them (only a zero
        can be one: a SKU no event told of has nothing available)."""
        if not self._settings.hold_unknown_stock:
            return due
        zeros = [d.state.listing for d in due if d.state.desired_qty == 0]
        held = set(await self._store.sync.hold_unknown(zeros)) if zeros else set()
        return [d for d in due if d.state.listing not in held] if held else due

    async def _due(self, limit: int) -> list[DueListing]:
        adapter = self._adapter
        if not isinstance(adapter, GroupsWrites):
            return await self._store.sync.due(self._account, self._clock.now(), limit)
        # A write group cut at the limit would cost a second call next pass: look further
        # and bring along the due listings of the groups already taken. In the order the
        # store hands them out (priority, then the change's sequence) a group's listings lie
        # far apart in a large backlog: after a burst of 100,000 changes over 10,000 SKUs,
        # looking twice as far, WooCommerce's parents were written 2.25 times each.
        due = await self._store.sync.due(self._account, self._clock.now(), GROUP_LOOKAHEAD * limit)
        head, tail = due[:limit], due[limit:]
        taken = {adapter.write_group(ref_of(d)) for d in head}
        return head + [d for d in tail if adapter.write_group(ref_of(d)) in taken]

    def _one_call_each(self, due: int) -> bool:
        """Whether the adapter writes `due` listings with one rate-limited call each (a
        platform whose batch is a bulk feed, below the backlog where it chooses one)."""
        capabilities = self._adapter.capabilities
        return capabilities.bulk_feed_from is not None and due < capabilities.bulk_feed_from

    def _batches(self, due: Sequence[DueListing], chunked: bool) -> list[list[DueListing]]:
        capabilities = self._adapter.capabilities
        if chunked:
            # As many single calls as the rate lets go at once: then the pass may yield.
            rate = capabilities.rate
            return pack(due, rate.burst if isinstance(rate, RateBurst) else 1)
        max_batch = capabilities.max_batch
        adapter = self._adapter
        if isinstance(adapter, GroupsWrites):
            return pack_grouped(due, max_batch, lambda d: adapter.write_group(ref_of(d)))
        return pack(due, max_batch)

    async def _push(self, batch: list[DueListing]) -> DispatchReport:
        updates = [update_of(d) for d in batch]
        results: Sequence[ItemResult] = ()
        try:
            results = await self._adapter.push(updates)
        except ChannelError as error:
            outcomes = self._call_failed(batch, error)
        else:
            self.circuit.record_success()  # the platform answered, whatever each item's fate
            outcomes = self._backoff.results(batch, results, self._clock.now())
            self._confirm_later(batch, results)
        # Recorded after the call: a crash in between leaves the listings dirty, and
        # re-sending the same absolute quantities later is harmless.
        await self._store.sync.record(outcomes)
        # A refused write that says what the channel shows (a compare-and-set that lost to
        # a sale there): the next attempt compares against that, not what we pushed.
        seen = [
            (due.state.listing, result.observed)
            for due, result in zip(batch, results, strict=False)
            if result.status is ItemStatus.FAILED_RETRYABLE and result.observed is not None
        ]
        if seen:
            await self._store.sync.channel_shows(seen)
        return DispatchReport.of(outcomes)

    def _confirm_later(self, batch: list[DueListing], results: Sequence[ItemResult]) -> None:
        delay = self._adapter.capabilities.confirm_after_s
        at = self._timer.monotonic() + (delay or 0.0)
        for due, result in zip(batch, results, strict=True):
            if result.status is ItemStatus.ACCEPTED:
                self._to_confirm[due.sku] = at

    def _call_failed(self, batch: list[DueListing], error: ChannelError) -> list[PushOutcome]:
        logger.info("%s: push of %d listings failed: %s", self._account, len(batch), error)
        now = self._clock.now()
        if isinstance(error, AuthFailedError):
            self.circuit.trip()
            # Retry with the circuit's probe, so that fixed credentials take effect then.
            return self._backoff.delayed(batch, error, now, self.circuit.retry_in())
        self.circuit.record_failure()
        return self._backoff.failed_call(batch, error, now)

    async def _wait_after(self, report: DispatchReport) -> float:
        now = self._clock.now()
        due = await self._store.sync.next_due(self._account, now)
        wait = self._settings.idle if due is None else (due - now).total_seconds()
        wait = min(wait, self._settings.idle)
        if self._to_confirm:
            wait = min(wait, min(self._to_confirm.values()) - self._timer.monotonic())
        floor = 0.0 if report.pushed else self._settings.min_wait
        pause = self._limiter.delay() if self._limiter is not None else 0.0
        return max(wait, floor, pause, self.circuit.retry_in())

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        await first_of(self._timer.sleep(seconds), self._wake.wait(), stop.wait())


def _ref(row: Listed) -> ListingRef:
    return ListingRef(listing=row.listing, sku=row.sku, external_ids=row.external_ids)


def _refs(page: Sequence[DueListing]) -> list[ListingRef]:
    return [ref_of(d) for d in page]
