"""The ways peers sync, implemented honestly on omnistock's own adapters and sandboxes, so
that every comparison is taken on the same machine, through the same code, at the same
time. Both run beside an engine whose own pushing is off (EngineSettings.pushing=False):
ingestion (webhooks, polling, the ledger) is the same for every system; only the writes
to the channels differ.

- `PeriodicSync`: every `period_s`, push every listing's current quantity (Sellbrite every
  15 min, ERPNext 5-60 min, SkuVault 5-10 min, as their documentation says), in the platform's
  batches.
- `PerEventSync`: forward each ledger change to each affected listing as its own API
  call, in arrival order: no coalescing, no batching, no priority. A call the platform
  refuses for now (rate limit, 5xx) is retried after its Retry-After (or a second), a few
  times, as any queue worker would; then it is dropped and logged."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from omnistock.adapters.base import ChannelAdapter, ListingRef, StockUpdate
from omnistock.clock import Hold, Timer, sleep_or_stop
from omnistock.dispatch.batching import pack, update_of
from omnistock.domain.allocation import AllocationPolicy, desired_quantity
from omnistock.domain.balance import ZERO, Balance, apply
from omnistock.domain.errors import ChannelError, TransientError
from omnistock.domain.ids import AccountId, LocationId, Sku
from omnistock.ledger.store import Store
from omnistock.ledger.sync_state import DueListing

logger = logging.getLogger(__name__)

READ_PAGE = 5_000


async def every_listing(store: Store, account: AccountId) -> list[DueListing]:
    found: list[DueListing] = []
    while page := await store.sync.listed(
        account, found[-1].state.listing if found else None, READ_PAGE
    ):
        found.extend(page)
    return found


class PeriodicSync:
    """Every `period_s` of `timer` time, a full push of every account, batch after batch."""

    def __init__(
        self,
        store: Store,
        adapters: Mapping[AccountId, ChannelAdapter],
        timer: Timer,
        *,
        period_s: float = 900.0,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._timer = timer
        self._period_s = period_s
        self._hold = Hold()
        self.passes = 0

    async def run(self, stop: asyncio.Event) -> None:
        """A full push every period, the first one period from now (the accounts were
        just synced in full); a pass that falls due while held starts on release."""
        while True:
            await sleep_or_stop(self._timer, self._period_s, stop)
            await self._hold.released(stop)
            if stop.is_set():
                return
            async with asyncio.TaskGroup() as tg:
                for account, adapter in self._adapters.items():
                    tg.create_task(self._push_all(account, adapter))
            self.passes += 1

    @contextmanager
    def held(self) -> Iterator[None]:
        """No pass starts meanwhile (one under way finishes). A scenario that must start
        from a shop at rest needs this: a full push sets off a notification for every
        listing, and at a short period (900 platform seconds are 4.5 s of wall time at
        x200) the next push comes before the last one's notifications are all in."""
        with self._hold.hold():
            yield

    async def _push_all(self, account: AccountId, adapter: ChannelAdapter) -> None:
        listings = await every_listing(self._store, account)
        for batch in pack(listings, adapter.capabilities.max_batch):
            try:
                await adapter.push([update_of(d) for d in batch])
            except ChannelError as error:  # the next period tries again, as peers do
                logger.info("periodic push to %s failed: %s", account, error)


@dataclass(frozen=True, slots=True)
class _Forward:
    due: DueListing
    quantity: int  # what the listing should show right after the event
    sequence: int


class PerEventSync:
    """Follows the ledger log; each event becomes one single-listing call per listing of
    its SKU carrying the quantity right after that event (as a stock-change hook sends
    it), each account's calls sent one after another in the order of the events."""

    def __init__(
        self,
        store: Store,
        adapters: Mapping[AccountId, ChannelAdapter],
        timer: Timer,
        *,
        attempts: int = 5,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._timer = timer
        self._attempts = attempts
        self._queues: dict[AccountId, asyncio.Queue[_Forward]] = {
            account: asyncio.Queue() for account in adapters
        }
        self._position = 0
        self._balances: dict[Sku, dict[LocationId, Balance]] = {}
        self.outstanding = 0  # calls queued or in flight

    async def caught_up(self) -> bool:
        """Every ledger change so far has been forwarded (its calls made)."""
        if self.outstanding:
            return False
        return not await self._store.ledger.read(self._position, 1)

    async def start_at_end(self) -> None:
        """Forward only what is appended from now on (the opening stock is a first sync),
        starting from the balances as they stand."""
        while events := await self._store.ledger.read(self._position, READ_PAGE):
            self._position = events[-1].position
        skus = [item.sku for item in await self._store.catalog.items()]
        self._balances = await self._store.ledger.balances(skus)

    async def run(self, stop: asyncio.Event) -> None:
        by_sku: dict[Sku, list[DueListing]] = defaultdict(list)
        for account in self._adapters:
            for due in await every_listing(self._store, account):
                by_sku[due.sku].append(due)
        policies = {a.id: a.policy for a in await self._store.catalog.accounts()}
        async with asyncio.TaskGroup() as tg:
            for account, adapter in self._adapters.items():
                tg.create_task(self._forward(account, adapter, stop))
            await self._follow(by_sku, policies, stop)
            for queue in self._queues.values():
                await queue.join()  # everything forwarded before stopping

    async def _follow(
        self,
        by_sku: Mapping[Sku, list[DueListing]],
        policies: Mapping[AccountId, AllocationPolicy],
        stop: asyncio.Event,
    ) -> None:
        while not stop.is_set():
            events = await self._store.ledger.read(self._position, READ_PAGE)
            if not events:
                await _sleep_or_stop_real(0.01, stop)
                continue
            self._position = events[-1].position
            for stored in events:
                event = stored.event
                at = self._balances.setdefault(event.sku, {})
                at[event.location] = apply(at.get(event.location, ZERO), event)
                available = {location: b.available for location, b in at.items()}
                for due in by_sku.get(event.sku, ()):
                    policy = policies[due.state.account]
                    quantity = desired_quantity(policy, available)
                    self.outstanding += 1
                    self._queues[due.state.account].put_nowait(
                        _Forward(due, quantity, stored.position)
                    )

    async def _forward(
        self, account: AccountId, adapter: ChannelAdapter, stop: asyncio.Event
    ) -> None:
        queue = self._queues[account]
        while not (stop.is_set() and queue.empty()):
            try:
                forward = await asyncio.wait_for(queue.get(), 0.05)
            except TimeoutError:
                continue
            try:
                await self._send(account, adapter, forward)
            finally:
                self.outstanding -= 1
                queue.task_done()

    async def _send(self, account: AccountId, adapter: ChannelAdapter, forward: _Forward) -> None:
        due = forward.due
        ref = ListingRef(listing=due.state.listing, sku=due.sku, external_ids=due.external_ids)
        update = StockUpdate(ref=ref, quantity=forward.quantity, sequence=forward.sequence)
        for attempt in range(1, self._attempts + 1):
            try:
                await adapter.push([update])
                return
            except TransientError as error:
                if attempt == self._attempts:
                    logger.info("per-event push to %s dropped: %s", account, error)
                    return
                await self._timer.sleep(error.retry_after or 1.0)
            except ChannelError as error:
                logger.info("per-event push to %s failed: %s", account, error)
                return


async def _sleep_or_stop_real(seconds: float, stop: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
