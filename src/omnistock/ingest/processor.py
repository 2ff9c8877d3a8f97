"""Inbox processing: take items in inbox order, translate them, append to the ledger, ack.

Exactly-once effect comes from the ledger's idempotency keys: an item processed twice (a
crash between append and ack) finds its keys known and changes nothing. What cannot be
applied is recorded as an incident (oversells, unmapped lines), never dropped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from omnistock.adapters.base import ChannelEvent
from omnistock.bus.inbox import (
    Inbox,
    InboxItem,
    InboxKind,
    Incident,
    IncidentKind,
    KnownKeys,
    Settled,
    Step,
)
from omnistock.clock import Clock, SystemClock
from omnistock.domain.balance import RejectionCode
from omnistock.domain.errors import DomainError, StorageBusyError, UnknownEntityError
from omnistock.domain.events import StockReserved
from omnistock.domain.ids import AccountId, Sku
from omnistock.ingest.codec import decode_channel_event, decode_ledger_events
from omnistock.ingest.orders import (
    CHANNEL_SOURCE,
    AccountContext,
    DriftObservation,
    LineAction,
    RejectedLine,
    Translation,
    UnmappedLine,
    keys_to_check,
    translate,
)
from omnistock.ledger.store import Store

logger = logging.getLogger(__name__)

MAX_RETRY_S = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessReport:
    """What one pass over the inbox did."""

    taken: int = 0
    acked: int = 0
    failed: int = 0  # to be retried, or parked (counted in `parked` too)
    parked: int = 0
    applied: int = 0  # ledger events applied now
    rejected: int = 0  # ledger events refused now (oversells among them)
    incidents: tuple[Incident, ...] = ()  # recorded now: notify, and re-push their SKUs
    observations: tuple[DriftObservation, ...] = ()  # channel levels, for the dispatcher
    skus: frozenset[Sku] = frozenset()  # SKUs whose stock changed or was oversold
    verify: frozenset[tuple[AccountId, Sku]] = frozenset()  # levels to read back
    # Units sold on each channel (orders placed there, first seen now): its own level fell.
    sold: Mapping[tuple[AccountId, Sku], int] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    """The running totals of one pass (frozen into a ProcessReport at the end)."""

    taken: int = 0
    acked: list[int] = field(default_factory=list)
    failed: int = 0
    parked: int = 0
    applied: int = 0
    rejected: int = 0
    incidents: list[Incident] = field(default_factory=list)
    observations: list[DriftObservation] = field(default_factory=list)
    skus: set[Sku] = field(default_factory=set)
    verify: set[tuple[AccountId, Sku]] = field(default_factory=set)
    sold: dict[tuple[AccountId, Sku], int] = field(default_factory=dict)

    def report(self) -> ProcessReport:
        return ProcessReport(
            taken=self.taken,
            acked=len(self.acked),
            failed=self.failed,
            parked=self.parked,
            applied=self.applied,
            rejected=self.rejected,
            incidents=tuple(self.incidents),
            observations=tuple(self.observations),
            skus=frozenset(self.skus),
            verify=frozenset(self.verify),
            sold=dict(self.sold),
        )


@dataclass(frozen=True, slots=True)
class _Channel:
    """A channel event taken from the inbox, ready to translate."""

    item: InboxItem
    event: ChannelEvent
    ctx: AccountContext
    keys: frozenset[str]


class _Contexts:
    """Account contexts built from the catalog, rebuilt when something is not found."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_account: dict[AccountId, AccountContext] | None = None

    async def get(self, account: AccountId) -> AccountContext:
        """Raises UnknownEntityError when the catalog has no such account."""
        contexts = self._by_account
        if contexts is None or account not in contexts:
            contexts = await self.refresh()
        if account not in contexts:
            raise UnknownEntityError("account", account)
        return contexts[account]

    async def refresh(self) -> dict[AccountId, AccountContext]:
        catalog = self._store.catalog
        listings = await catalog.listings()
        skus = [item.sku for item in await catalog.items()]
        self._by_account = {
            a.id: AccountContext.build(a, [x for x in listings if x.account == a.id], skus)
            for a in await catalog.accounts()
        }
        return self._by_account


class InboxProcessor:
    """Drains the inbox into the ledger, one item at a time in inbox order."""

    def __init__(
        self,
        store: Store,
        *,
        inbox: Inbox | None = None,
        clock: Clock | None = None,
        lease: float = 30.0,
        retry_s: float = 2.0,
    ) -> None:
        self._store = store
        self._inbox: Inbox = inbox or store.inbox
        self._clock = clock or SystemClock()
        self._lease = lease
        self._retry_s = retry_s
        self._contexts = _Contexts(store)

    async def run_once(self, limit: int = 100) -> ProcessReport:
        """Process up to `limit` items; every item ends acknowledged, or failed for a
        retry (parked after the inbox's maximum attempts)."""
        tally = _Tally()
        items = await self._inbox.take(limit, self._lease)
        tally.taken = len(items)
        # Each settlement acknowledges its own items with what it writes.
        batch: list[_Channel] = []
        keys: set[str] = set()
        for item in items:
            channel = None
            if item.kind is InboxKind.CHANNEL_EVENT:
                channel = await self._channel_of(item, tally)
                if channel is None:
                    continue
            # Another kind of item, or the same order line again: what came before
            # is settled first, in inbox order.
            if channel is None or not keys.isdisjoint(channel.keys):
                await self._channel_batch(batch, tally)
                batch, keys = [], set()
            if channel is None:
                await self._process(item, tally)
            else:
                batch.append(channel)
                keys.update(channel.keys)
        await self._channel_batch(batch, tally)
        return tally.report()

    async def run(
        self,
        stop: asyncio.Event,
        *,
        limit: int = 100,
        idle_s: float = 0.1,
        on_report: Callable[[ProcessReport], Awaitable[None]] | None = None,
    ) -> None:
        """Process until `stop` is set, waiting `idle_s` (or until stop) when idle."""
        while not stop.is_set():
            report = await self.run_once(limit)
            if on_report is not None and report.taken:
                await on_report(report)
            if not report.taken:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(idle_s):
                        await stop.wait()

    async def incidents(self, limit: int = 100) -> list[Incident]:
        """Recorded incidents, most recent first."""
        return await self._inbox.incidents(limit)

    async def _process(self, item: InboxItem, tally: _Tally) -> None:
        try:
            if item.kind is InboxKind.CHANNEL_EVENT:
                await self._channel_event(item, decode_channel_event(item.payload), tally)
            else:
                # Event API batches and import rows arrive already as ledger events.
                step = Step(events=decode_ledger_events(item.payload), final=True, ack=[item.id])
                self._count(await self._inbox.settle((), lambda _: step), tally)
                tally.acked.append(item.id)
        except (DomainError, StorageBusyError) as error:
            await self._fail(item, error, tally)

    async def _channel_of(self, item: InboxItem, tally: _Tally) -> _Channel | None:
        """The item's event, its account's context and its line keys; None (the item
        failed) when it cannot be decoded or names an unknown account."""
        try:
            event = decode_channel_event(item.payload)
            ctx = await self._contexts.get(event.account)
        except DomainError as error:
            await self._fail(item, error, tally)
            return None
        return _Channel(item, event, ctx, frozenset(keys_to_check(event, ctx)))

    async def _channel_batch(self, batch: list[_Channel], tally: _Tally) -> None:
        """Channel events whose order lines are all different, settled together: one
        settlement (one transaction) for the whole batch instead of one per event. If the
        store refuses the batch, nothing of it was written, and each event goes alone."""
        if len(batch) <= 1:
            for channel in batch:
                await self._process(channel.item, tally)
            return
        try:
            translations = await self._settle(batch, tally, final=False)
        except (DomainError, StorageBusyError):
            for channel in batch:
                await self._process(channel.item, tally)
            return
        for channel, translation in zip(batch, translations, strict=True):
            if translation.unmapped:
                await self._process(channel.item, tally)  # looks the catalog up again
            else:
                self._note(channel.event, translation, tally)

    async def _fail(self, item: InboxItem, error: Exception, tally: _Tally) -> None:
        delay = min(self._retry_s * 2 ** (item.attempts - 1), MAX_RETRY_S)
        message = f"{type(error).__name__}: {error}"
        parked = await self._inbox.fail(
            item.id, message, self._clock.now() + timedelta(seconds=delay)
        )
        logger.info("inbox item %d failed (parked=%s): %s", item.id, parked, message)
        tally.failed += 1
        tally.parked += int(parked)

    async def _channel_event(self, item: InboxItem, event: ChannelEvent, tally: _Tally) -> None:
        ctx = await self._contexts.get(event.account)
        channel = _Channel(item, event, ctx, frozenset(keys_to_check(event, ctx)))
        [translation] = await self._settle([channel], tally, final=False)
        if translation.unmapped:
            # A listing may have been added since the contexts were built: look again.
            await self._contexts.refresh()
            ctx = await self._contexts.get(event.account)
            channel = _Channel(item, event, ctx, frozenset(keys_to_check(event, ctx)))
            [translation] = await self._settle([channel], tally, final=True)
        self._note(event, translation, tally)

    def _note(self, event: ChannelEvent, translation: Translation, tally: _Tally) -> None:
        if translation.observation is not None:
            tally.observations.append(translation.observation)
        tally.verify.update((event.account, sku) for sku in translation.verify)

    async def _settle(
        self, batch: Sequence[_Channel], tally: _Tally, *, final: bool
    ) -> list[Translation]:
        """Translate and apply until the events ask for nothing more, in one settlement.
        An event with unmapped lines is finished (its incidents recorded, its item
        acknowledged) only when `final`: otherwise the caller looks the catalog up again
        and settles it once more; what did apply is known by then, so nothing applies twice."""
        keys = [key for channel in batch for key in channel.keys]
        last: list[Translation] = []
        found: list[Incident] = []

        def decide(known: KnownKeys) -> Step:
            translations = [translate(c.event, c.ctx, known) for c in batch]
            last[:] = translations
            if not all(t.settled for t in translations):
                events = [event for t in translations for event in t.events]
                return Step(events=events, marks=[m for t in translations for m in t.marks])
            done = [
                (c, t) for c, t in zip(batch, translations, strict=True) if final or not t.unmapped
            ]
            found[:] = [i for c, t in done for i in _incidents(c.event, t)]
            return Step(final=True, incidents=found, ack=[c.item.id for c, _ in done])

        settled = await self._inbox.settle(keys, decide)
        self._count(settled, tally)
        tally.incidents.extend(i for i, new in zip(found, settled.fresh, strict=True) if new)
        tally.skus.update(Sku(i.sku) for i in found if i.sku is not None)
        tally.acked.extend(
            c.item.id for c, t in zip(batch, last, strict=True) if final or not t.unmapped
        )
        return last

    def _count(self, settled: Settled, tally: _Tally) -> None:
        for event, result in settled.appended:
            if result.duplicate:
                continue
            if isinstance(event, StockReserved) and event.source.startswith(CHANNEL_SOURCE):
                # The channel sold these units whether or not the ledger had them.
                key = (AccountId(event.source.removeprefix(CHANNEL_SOURCE)), event.sku)
                tally.sold[key] = tally.sold.get(key, 0) + event.quantity
            if result.applied:
                tally.applied += 1
                tally.skus.add(event.sku)
            else:
                tally.rejected += 1


def _incidents(event: ChannelEvent, translation: Translation) -> list[Incident]:
    """Incidents for what could not be applied; keys make recording them idempotent."""
    unmapped = [_unmapped_incident(event.account, u) for u in translation.unmapped]
    return unmapped + [_rejected_incident(event.account, r) for r in translation.rejected]


def _unmapped_incident(account: AccountId, unmapped: UnmappedLine) -> Incident:
    line = unmapped.line
    return Incident(
        key=f"unmapped:{line.order_line}",
        kind=IncidentKind.UNMAPPED_LINE,
        account=account,
        reason=unmapped.reason,
        order_id=line.order_id,
        line_id=line.line_id,
        sku=line.sku,
        quantity=line.quantity,
    )


def _rejected_incident(account: AccountId, rejected: RejectedLine) -> Incident:
    line, action, rejection = rejected.line, rejected.action, rejected.rejection
    oversold = action is LineAction.RESERVED and rejection.code is RejectionCode.INSUFFICIENT_STOCK
    return Incident(
        key=f"{'oversold' if oversold else 'rejected'}:{line.key(action)}",
        kind=IncidentKind.OVERSOLD if oversold else IncidentKind.REJECTED,
        account=account,
        reason=f"{action.value}: {rejection.message}",
        order_id=line.order_id,
        line_id=line.line_id,
        sku=line.sku,
        location=line.location,
        quantity=line.quantity,
    )
