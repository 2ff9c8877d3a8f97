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
from omnistock.bus.inbox import Inbox, InboxItem, InboxKind
from omnistock.clock import Clock, SystemClock
from omnistock.domain.balance import RejectionCode
from omnistock.domain.errors import DomainError, StorageBusyError, UnknownEntityError
from omnistock.domain.events import LedgerEvent, StockReserved
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
from omnistock.ledger.inbox import Incident, IncidentKind
from omnistock.ledger.store import Store

logger = logging.getLogger(__name__)

# A line needs at most two appends (a fulfilment seen first: reserve, then fulfil) and one
# mark; more rounds than this mean translation is not converging, a bug worth parking.
MAX_ROUNDS = 4
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
        try:
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
        finally:
            # Acknowledge what was done even if a later item raised: it is idempotent anyway.
            if tally.acked:
                await self._inbox.ack(tally.acked)
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
        return await self._store.inbox.incidents(limit)

    async def _process(self, item: InboxItem, tally: _Tally) -> None:
        try:
            if item.kind is InboxKind.CHANNEL_EVENT:
                await self._channel_event(decode_channel_event(item.payload), tally)
            else:
                # Event API batches and import rows arrive already as ledger events.
                await self._append(decode_ledger_events(item.payload), tally)
        except (DomainError, StorageBusyError) as error:
            await self._fail(item, error, tally)
            return
        tally.acked.append(item.id)

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
        lookup, one append and one incident write per round for the whole batch instead
        of per event. If the store refuses the batch, each event goes alone."""
        if len(batch) <= 1:
            for channel in batch:
                await self._process(channel.item, tally)
            return
        try:
            translations = await self._settle_together(batch, tally)
        except (DomainError, StorageBusyError):
            for channel in batch:  # what did apply is known now: nothing applies twice
                await self._process(channel.item, tally)
            return
        found: list[Incident] = []
        for channel, translation in zip(batch, translations, strict=True):
            if translation.unmapped:
                await self._process(channel.item, tally)  # looks the catalog up again
                continue
            self._note(channel.event, translation, tally)
            found.extend(_incidents(channel.event, translation))
            tally.acked.append(channel.item.id)
        await self._record(found, tally)

    async def _settle_together(self, batch: list[_Channel], tally: _Tally) -> list[Translation]:
        records = self._store.inbox
        keys = [key for channel in batch for key in channel.keys]
        for _ in range(MAX_ROUNDS):
            known = await records.known(keys) if keys else {}
            translations = [translate(c.event, c.ctx, known) for c in batch]
            if all(t.settled for t in translations):
                return translations
            marks = [mark for t in translations for mark in t.marks]
            if marks:
                await records.mark(marks)
            events = [event for t in translations for event in t.events]
            if events:
                await self._append(events, tally)
        raise RuntimeError("a batch of channel events did not settle")

    async def _fail(self, item: InboxItem, error: Exception, tally: _Tally) -> None:
        delay = min(self._retry_s * 2 ** (item.attempts - 1), MAX_RETRY_S)
        message = f"{type(error).__name__}: {error}"
        parked = await self._inbox.fail(
            item.id, message, self._clock.now() + timedelta(seconds=delay)
        )
        logger.info("inbox item %d failed (parked=%s): %s", item.id, parked, message)
        tally.failed += 1
        tally.parked += int(parked)

    async def _channel_event(self, event: ChannelEvent, tally: _Tally) -> None:
        ctx = await self._contexts.get(event.account)
        translation = await self._settle(event, ctx, tally)
        if translation.unmapped:
            # A listing may have been added since the contexts were built: look again.
            await self._contexts.refresh()
            ctx = await self._contexts.get(event.account)
            translation = await self._settle(event, ctx, tally)
        self._note(event, translation, tally)
        await self._record(_incidents(event, translation), tally)

    def _note(self, event: ChannelEvent, translation: Translation, tally: _Tally) -> None:
        if translation.observation is not None:
            tally.observations.append(translation.observation)
        tally.verify.update((event.account, sku) for sku in translation.verify)

    async def _record(self, found: list[Incident], tally: _Tally) -> None:
        # Most events raise none (and a level report never does): no store round trip.
        new = await self._store.inbox.record_incidents(found) if found else []
        tally.incidents.extend(i for i, fresh in zip(found, new, strict=True) if fresh)
        tally.skus.update(Sku(i.sku) for i in found if i.sku is not None)

    async def _settle(self, event: ChannelEvent, ctx: AccountContext, tally: _Tally) -> Translation:
        """Translate and apply until the event asks for nothing more."""
        records = self._store.inbox
        keys = keys_to_check(event, ctx)
        for _ in range(MAX_ROUNDS):
            # A level report names no order lines: nothing to look up.
            known = await records.known(keys) if keys else {}
            translation = translate(event, ctx, known)
            if translation.settled:
                return translation
            if translation.marks:
                await records.mark(translation.marks)
            if translation.events:
                await self._append(translation.events, tally)
        raise RuntimeError(f"translation of {event.dedupe_key} did not settle")

    async def _append(self, events: Sequence[LedgerEvent], tally: _Tally) -> None:
        results = await self._store.ledger.append(events)
        for event, result in zip(events, results, strict=True):
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
