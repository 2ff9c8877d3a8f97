"""Scenario `latency`'s probe: from an order accepted by one sandbox until every other store
shows a quantity the ledger computed after it, per destination platform (wall clock).

It follows the ledger's log (and the inbox's incidents, for orders the ledger refused)
incrementally, samples the desired quantity of the listings with orders waiting, and
compares those with what each store shows."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial

from omnistock.domain.events import StockReserved
from omnistock.domain.ids import AccountId, ListingId
from omnistock.kit.merchant import Merchant
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.ledger.store import Store


@dataclass(slots=True)
class _Measurement:
    started: float  # perf_counter when the store accepted the order
    sample: int  # the first desired-quantity sample taken after the ledger had it


@dataclass(slots=True)
class _Track:
    """A listing with orders waiting to show on it. A later order's acceptable quantities
    are a subset of an earlier one's, so orders settle in order."""

    pending: deque[_Measurement] = field(default_factory=deque)
    values: dict[int, int] = field(default_factory=dict)  # desired qty -> latest sample


class LatencyProbe:
    """Follows the ledger's log incrementally, samples the desired quantity of the listings
    it touched, and compares only the listings with orders waiting, reading each store's
    shown quantities at most once per check (more rarely for old waits: 1% of their age)."""

    def __init__(self, merchant: Merchant, store: Store, tick_s: float) -> None:
        self._stores = merchant.stores
        self._store = store
        self._tick_s = tick_s
        self.measuring = False
        self.orders: dict[AccountId, int] = {s.account: 0 for s in merchant.stores}
        self.latencies: dict[str, list[float]] = {s.platform: [] for s in merchant.stores}
        self.ingest_ms: list[float] = []
        # The same delays by the platform the order was placed on.
        self.ingest_ms_from: dict[str, list[float]] = {s.platform: [] for s in merchant.stores}
        self._platform = {s.account: s.platform for s in merchant.stores}
        self._placed: dict[tuple[str, str], tuple[float, str]] = {}  # not in the ledger yet
        self._tracks: dict[AccountId, dict[str, _Track]] = {s.account: {} for s in self._stores}
        self._next_check = {s.account: 0.0 for s in self._stores}
        self._idle = asyncio.Event()
        self._sample = 0
        self._ledger_at = 0
        self._incidents_at = 0

    def watch(self) -> None:
        for s in self._stores:
            s.sandbox.core.shoppers.listeners.append(partial(self._placed_order, s.account))

    def _placed_order(self, account: AccountId, order_id: str, line: OrderLine) -> None:
        self.orders[account] += 1
        if self.measuring:
            self._placed[(account, order_id)] = (time.perf_counter(), line.sku)

    async def skip_history(self) -> None:
        """Start following the ledger and the incidents from their ends."""
        await self._follow()
        while incidents := await self._store.inbox.incidents_after(self._incidents_at, 1000):
            self._incidents_at = incidents[-1].position or self._incidents_at

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.tick()
            await asyncio.sleep(self._tick_s)

    async def tick(self) -> None:
        seen, touched = await self._follow()
        await self._sample_desired(seen, touched)
        self._check_stores()
        if self.waiting():
            self._idle.clear()
        else:
            self._idle.set()

    def waiting(self) -> int:
        tracked = sum(len(t.pending) for tracks in self._tracks.values() for t in tracks.values())
        return tracked + len(self._placed)

    async def drained(self, timeout_s: float) -> None:
        """Until nothing is waiting, or `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()

    def unsettled(self) -> dict[str, list[float]]:
        """Per platform, the age (ms) of every wait not over: a floor of its delay."""
        now = time.perf_counter()
        ages: dict[str, list[float]] = {s.platform: [] for s in self._stores}
        for s in self._stores:
            for track in self._tracks[s.account].values():
                ages[s.platform].extend((now - m.started) * 1000 for m in track.pending)
            others = [(account, started) for (account, _), (started, _) in self._placed.items()]
            ages[s.platform].extend((now - t) * 1000 for a, t in others if a != s.account)
        return ages

    async def _follow(self) -> tuple[list[tuple[AccountId, float, str]], set[str]]:
        """Orders the ledger answered since the last look, and the SKUs it touched."""
        seen: list[tuple[AccountId, float, str]] = []
        touched: set[str] = set()
        while events := await self._store.ledger.read(self._ledger_at, 10_000):
            self._ledger_at = events[-1].position
            for stored in events:
                event = stored.event
                touched.add(event.sku)
                if isinstance(event, StockReserved) and event.account is not None:
                    order_id = event.order_line.removeprefix(f"{event.account}:").split(":")[0]
                    self._answered(event.account, order_id, seen)
        while incidents := await self._store.inbox.incidents_after(self._incidents_at, 1000):
            self._incidents_at = incidents[-1].position or self._incidents_at
            for i in incidents:
                if i.account is not None and i.order_id is not None:
                    self._answered(i.account, i.order_id, seen)
        touched.update(sku for _, _, sku in seen)
        return seen, touched

    def _answered(
        self, account: AccountId, order_id: str, seen: list[tuple[AccountId, float, str]]
    ) -> None:
        found = self._placed.pop((account, order_id), None)
        if found is not None:
            seen.append((account, *found))

    async def _sample_desired(
        self, seen: list[tuple[AccountId, float, str]], touched: set[str]
    ) -> None:
        """Desired quantities of the touched listings that have orders waiting (read after
        the ledger that answered those orders, so they reflect them)."""
        now = time.perf_counter()
        self._sample += 1
        for account, started, sku in seen:
            self.ingest_ms.append((now - started) * 1000)
            self.ingest_ms_from[self._platform[account]].append((now - started) * 1000)
            for s in self._stores:
                if s.account != account:
                    track = self._tracks[s.account].setdefault(sku, _Track())
                    track.pending.append(_Measurement(started, self._sample))
        wanted = {
            ListingId(f"{s.account}:{sku}"): (s.account, sku)
            for s in self._stores
            for sku in touched
            if sku in self._tracks[s.account]
        }
        if not wanted:
            return
        for listing, state in (await self._store.sync.get(list(wanted))).items():
            account, sku = wanted[listing]
            self._tracks[account][sku].values[state.desired_qty] = self._sample

    def _check_stores(self) -> None:
        for s in self._stores:
            now = time.perf_counter()
            tracks = self._tracks[s.account]
            if not tracks or now < self._next_check[s.account]:
                continue
            oldest = now
            for sku in list(tracks):
                track = tracks[sku]
                # Only the SKUs waiting: the whole store's `shown` every few milliseconds
                # took 39% of the platforms' process at 5,000 SKUs (py-spy, stop 15;
                # docs/benchmarks.md, latency).
                at = track.values.get(s.sandbox.shown_of(sku))
                while track.pending and at is not None and at >= track.pending[0].sample:
                    done = track.pending.popleft()
                    self.latencies[s.platform].append((now - done.started) * 1000)
                if track.pending:
                    oldest = min(oldest, track.pending[0].started)
                else:
                    del tracks[sku]
            wait = min(max(self._tick_s, (now - oldest) / 100), 0.25)
            self._next_check[s.account] = now + wait
