"""The demo run: stores with shoppers, restocks, the engine in the same process, a live
snapshot every half second, then draining and a summary of what was measured."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from omnistock.clock import SystemClock, SystemTimer
from omnistock.engine import Engine, EngineSettings
from omnistock.ingest.pollers import PollInterval
from omnistock.kit.demo.probe import PropagationProbe
from omnistock.kit.merchant import (
    PLATFORM_ORDER,
    Merchant,
    build_merchant,
    opening_stock,
    restock,
)
from omnistock.kit.rig import open_shop
from omnistock.ledger.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    duration_s: float = 60.0
    seed: int = 7
    platforms: tuple[str, ...] = PLATFORM_ORDER  # a store per entry
    skus: int = 40
    shopper_rate: float = 3.0  # orders per second, per store
    restock_every_s: float = 4.0
    drain_timeout_s: float = 30.0


@dataclass
class Snapshot:
    elapsed_s: float
    events_applied: int
    api_calls: dict[str, int]
    backlog: int
    oversold_units: int
    propagation_ms: dict[str, float | None]


@dataclass
class DemoSummary:
    events_applied: int
    api_calls: dict[str, int]
    propagation_ms: dict[str, float | None]
    oversold_units: int
    oversold_orders: int
    orders_accepted: int
    drift_listings: int
    converged: bool
    given_up: int
    seconds: float
    snapshots: list[Snapshot] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "events_applied": self.events_applied,
            "api_calls": self.api_calls,
            "propagation_ms": self.propagation_ms,
            "oversold_units": self.oversold_units,
            "oversold_orders": self.oversold_orders,
            "orders_accepted": self.orders_accepted,
            "drift_listings": self.drift_listings,
            "converged": self.converged,
            "propagation_unsettled": self.given_up,
            "seconds": round(self.seconds, 1),
        }


async def run_demo(
    options: DemoOptions, workdir: Path, on_snapshot: Callable[[Snapshot], None] | None = None
) -> DemoSummary:
    started = time.perf_counter()
    clock = SystemClock()
    async with open_shop(
        build_merchant(options.platforms, options.skus, options.seed),
        f"sqlite:///{workdir / 'demo.db'}",
        clock=clock,
        timer=SystemTimer(),
        settings=EngineSettings(poll=PollInterval(min_s=1.0, max_s=10.0, start_s=2.0)),
        opening=lambda shop: opening_stock(shop, options.seed, clock.now()),
        run=True,
        onboard=True,  # each store's listings discovered and linked, as a merchant would
    ) as opened:
        store, shop, engine = opened.store, opened.merchant, opened.engine
        probe = PropagationProbe(shop, store)
        probe.watch()
        snapshots = await _trade(store, shop, engine, probe, options, on_snapshot)
        converged = await _drain(store, shop, probe, options.drain_timeout_s)
        return await _summary(store, shop, engine, probe, converged, started, snapshots)


async def _trade(
    store: Store,
    shop: Merchant,
    engine: Engine,
    probe: PropagationProbe,
    options: DemoOptions,
    on_snapshot: Callable[[Snapshot], None] | None,
) -> list[Snapshot]:
    rng = random.Random(options.seed)
    for s in shop.stores:
        s.sandbox.core.shoppers.set_rate(options.shopper_rate)
    begin = time.perf_counter()
    snapshots: list[Snapshot] = []
    restocks, next_restock = 0, options.restock_every_s
    while (elapsed := time.perf_counter() - begin) < options.duration_s:
        await asyncio.sleep(0.05)
        await probe.check()
        if elapsed >= next_restock:
            restocks += 1
            next_restock += options.restock_every_s
            await store.ledger.append(restock(shop, rng, restocks, SystemClock().now()))
            for dispatcher in engine.dispatchers.values():
                dispatcher.wake()
        if len(snapshots) < elapsed / 0.5:
            snapshot = await _snapshot(store, shop, engine, probe, elapsed)
            snapshots.append(snapshot)
            if on_snapshot is not None:
                on_snapshot(snapshot)
    for s in shop.stores:
        s.sandbox.core.shoppers.set_rate(0.0)
    return snapshots


async def _drain(store: Store, shop: Merchant, probe: PropagationProbe, timeout_s: float) -> bool:
    """Wait until nothing is left to push and every store shows what the ledger wants."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        await probe.check()
        if await _converged(store, shop) and not probe.pending:
            return True
        await asyncio.sleep(0.1)
    return await _converged(store, shop)


async def _converged(store: Store, shop: Merchant) -> bool:
    if (await store.inbox.counts()).pending:
        return False
    for s in shop.stores:
        if await store.sync.dirty(s.account, limit=1):
            return False
        shown = s.sandbox.shown()
        listings = await store.catalog.listings(s.account)
        states = await store.sync.get([x.id for x in listings])
        for listing in listings:
            if shown.get(listing.sku, 0) != states[listing.id].desired_qty:
                return False
    return True


async def _snapshot(
    store: Store, shop: Merchant, engine: Engine, probe: PropagationProbe, elapsed: float
) -> Snapshot:
    backlog = (await store.inbox.counts()).pending
    for s in shop.stores:
        backlog += len(await store.sync.dirty(s.account, limit=10_000))
    return Snapshot(
        elapsed_s=round(elapsed, 1),
        events_applied=engine.stats.applied,
        api_calls=_calls(shop),
        backlog=backlog,
        oversold_units=shop.truth.oversold_units,
        propagation_ms=probe.percentiles(),
    )


def _calls(shop: Merchant) -> dict[str, int]:
    return {s.account: s.sandbox.core.calls.count() for s in shop.stores}


async def _summary(
    store: Store,
    shop: Merchant,
    engine: Engine,
    probe: PropagationProbe,
    converged: bool,
    started: float,
    snapshots: list[Snapshot],
) -> DemoSummary:
    drift = sum([len(await store.sync.drift(s.account)) for s in shop.stores])
    ledger_events = len(await store.ledger.read(0, 10_000_000))
    return DemoSummary(
        events_applied=ledger_events,
        api_calls=_calls(shop),
        propagation_ms=probe.percentiles(),
        oversold_units=shop.truth.oversold_units,
        oversold_orders=shop.truth.oversold_orders,
        orders_accepted=shop.truth.orders_accepted,
        drift_listings=drift,
        converged=converged,
        given_up=probe.given_up,
        seconds=time.perf_counter() - started,
        snapshots=snapshots,
    )
