"""Scenario `latency`: shoppers buy on every channel at a steady rate while restocks arrive;
for each order, how long until every other channel shows a quantity that reflects it.

Measured from outside the engine, per destination platform (bench.propagation): from an
order accepted by one sandbox (its shoppers' listener) until the ledger has the order and
the other store shows a desired quantity the ledger computed after it. Wall-clock time
throughout (time scale 1), since the targets are in real seconds. Next to each platform's
figures, the lower bound its rate limit and batch size allow at the measured load
(bench.latency_bound)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from omnistock.adapters.base import Capabilities, ChannelAdapter
from omnistock.clock import SystemTimer
from omnistock.dispatch.batching import update_of
from omnistock.domain.ids import AccountId, Sku
from omnistock.kit.bench.latency_bound import bounds_ms
from omnistock.kit.bench.propagation import LatencyProbe
from omnistock.kit.bench.split import PlatformSide, SplitOptions, split_shop
from omnistock.kit.bench.stats import percentiles, spread
from omnistock.kit.merchant import PLATFORM_ORDER, restock

TARGET_P99_MS = 1_000.0  # Shopify, eBay, WooCommerce
TARGET_OVER_BOUND = 1.2  # Amazon
RTT_PROBES = 3


@dataclass(frozen=True, slots=True)
class LatencySize:
    skus: int = 5_000
    orders_per_s: float = 200.0  # in total, even over the four stores, wall clock
    warmup_s: float = 10.0  # load before measuring starts
    load_s: float = 60.0  # orders accepted in this window are measured
    # then at most this long for the last ones to show: Amazon's bound at the full load is
    # minutes (a feed every 2 min, then processing and the apply delay)
    drain_s: float = 300.0
    restock_every_s: float = 1.0  # a delivery of a few SKUs (merchant.restock)
    opening_low: int = 50
    opening_high: int = 200
    tick_s: float = 0.015  # how often the probe looks
    seed: int = 3


FULL = LatencySize()
# Few SKUs: Amazon's first sync patches every listing at 5/s.
QUICK = LatencySize(skus=80, orders_per_s=40.0, warmup_s=2.0, load_s=10.0, drain_s=8.0)


async def run(size: LatencySize, repeat: int) -> dict[str, object]:
    runs = []
    for n in range(repeat):
        with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
            runs.append(await _one(size, Path(tmp), size.seed + n))
    return _report(size, repeat, runs)


# --- one run ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    latencies: dict[str, list[float]]  # platform -> settled delays (ms)
    unsettled: dict[str, list[float]]  # platform -> ages (ms) of those still waiting
    ingest_ms: list[float]
    ingest_ms_from: dict[str, list[float]]  # by the platform the order was placed on
    bound_ms: dict[str, float | None]
    load: dict[str, float]
    write_calls_per_s: dict[str, float]


async def _one(size: LatencySize, workdir: Path, seed: int) -> _Run:
    """One run on bench.split's shop: the engine here, the stores, their shoppers and the
    probe in a process of their own."""
    options = SplitOptions(PLATFORM_ORDER, size.skus, seed, size.opening_low, size.opening_high)
    async with split_shop(options, workdir, _measured, _Job(size, seed)) as split:
        return split.result


async def _measured(side: PlatformSide, job: object) -> _Run:
    """In the platforms' process."""
    if not isinstance(job, _Job):
        raise TypeError(f"expected a latency job, got {job!r}")
    return await _measure(side, job.size, job.seed)


@dataclass(frozen=True, slots=True)
class _Job:
    size: LatencySize
    seed: int


async def _measure(side: PlatformSide, size: LatencySize, seed: int) -> _Run:
    await asyncio.sleep(1.0)  # the first sync emptied Amazon's patch bucket: refill it
    rtt, capabilities = await _round_trips(side)
    probe = LatencyProbe(side.merchant, side.store, size.tick_s)
    probe.watch()
    await probe.skip_history()
    loading, stop = asyncio.Event(), asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(probe.run(stop))
        restocks = _Restocks(side, random.Random(seed))
        tg.create_task(restocks.run(size.restock_every_s, loading))
        window = await _load(side, size, probe, restocks, loading)
        await probe.drained(size.drain_s)
        stop.set()
    platforms = {s.account: s.platform for s in side.merchant.stores}
    arrivals = window.arrivals(platforms)
    return _Run(
        latencies=probe.latencies,
        unsettled=probe.unsettled(),
        ingest_ms=probe.ingest_ms,
        ingest_ms_from=probe.ingest_ms_from,
        bound_ms=bounds_ms(side.merchant, capabilities, arrivals, rtt, size.skus),
        load=window.figures(),
        write_calls_per_s={platforms[a]: n / window.seconds for a, n in window.calls.items()},
    )


async def _round_trips(
    side: PlatformSide,
) -> tuple[dict[AccountId, float], dict[AccountId, Capabilities]]:
    """Each account's write round trip over HTTP, through adapters of its own (the engine's
    are its business), and the capabilities those declare (the same as the engine's)."""
    adapters = side.merchant.adapters(SystemTimer(), over_http=True)
    try:
        rtt = {a: await _round_trip(side, a, adapter) for a, adapter in adapters.items()}
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
    return rtt, {a: adapter.capabilities for a, adapter in adapters.items()}


@dataclass(slots=True)
class _Window:
    """What happened while orders were measured."""

    seconds: float
    orders: dict[AccountId, int]
    restocked: int  # ledger events
    calls: dict[AccountId, int]

    def arrivals(self, platforms: Mapping[AccountId, str]) -> dict[AccountId, float]:
        """Changes per second each account must be written: the others' orders, restocks."""
        total = sum(self.orders.values())
        return {
            a: (total - self.orders.get(a, 0) + self.restocked) / self.seconds for a in platforms
        }

    def figures(self) -> dict[str, float]:
        total = sum(self.orders.values())
        return {
            "seconds": round(self.seconds, 2),
            "orders_per_s": round(total / self.seconds, 1),
            "restock_events_per_s": round(self.restocked / self.seconds, 2),
            **{f"orders_per_s_{a}": round(n / self.seconds, 1) for a, n in self.orders.items()},
        }


async def _load(
    side: PlatformSide,
    size: LatencySize,
    probe: LatencyProbe,
    restocks: _Restocks,
    loading: asyncio.Event,
) -> _Window:
    stores = side.merchant.stores
    loading.set()
    for s in stores:
        s.sandbox.core.shoppers.set_rate(size.orders_per_s / len(stores))
    await asyncio.sleep(size.warmup_s)
    orders, events, calls = dict(probe.orders), restocks.events, side.write_calls()
    started = time.perf_counter()
    probe.measuring = True
    await asyncio.sleep(size.load_s)
    probe.measuring = False
    seconds = time.perf_counter() - started
    window = _Window(
        seconds,
        {a: n - orders.get(a, 0) for a, n in probe.orders.items()},
        restocks.events - events,
        {a: n - calls.get(a, 0) for a, n in side.write_calls().items()},
    )
    for s in stores:
        s.sandbox.core.shoppers.set_rate(0.0)
    loading.clear()
    return window


class _Restocks:
    """A supplier delivery every so often, sent to the engine's API as an ERP would."""

    def __init__(self, side: PlatformSide, rng: random.Random) -> None:
        self._side = side
        self._rng = rng
        self.events = 0

    async def run(self, every_s: float, loading: asyncio.Event) -> None:
        n = 0
        while loading.is_set():
            n += 1
            delivery = restock(self._side.merchant, self._rng, n, datetime.now(UTC))
            await self._side.append(delivery, f"restock-{n}")
            self.events += len(delivery)
            await asyncio.sleep(every_s)


async def _round_trip(side: PlatformSide, account: AccountId, adapter: ChannelAdapter) -> float:
    """Median seconds of one write call: a listing set to what it shows already (harmless;
    `expected` given, so a compare-and-set platform does not read first)."""
    sku = side.merchant.skus()[0]
    (due,) = await side.store.sync.of_skus(account, [Sku(sku)])
    shown = side.merchant.shown(account).get(sku, 0)
    update = dataclasses.replace(update_of(due), quantity=shown, expected=shown)
    seconds = []
    for _ in range(RTT_PROBES):
        started = time.perf_counter()
        await adapter.push([update])
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


# --- the report ------------------------------------------------------------------------


def _report(size: LatencySize, repeat: int, runs: Sequence[_Run]) -> dict[str, object]:
    platforms = list(runs[0].latencies)
    figures = {p: _figures(runs, p) for p in platforms}
    bound = {p: _median_of([r.bound_ms[p] for r in runs]) for p in platforms}
    for p, f in figures.items():
        p99 = f["p99_ms"]
        f["bound_ms"] = bound[p]
        median = p99.get("median") if isinstance(p99, dict) else None
        f["p99_over_bound"] = (
            round(median / bound[p], 3) if median is not None and bound[p] else None
        )
    return {
        "omnistock": figures,
        "bound": {p: None if b is None else round(b, 1) for p, b in bound.items()},
        "ingest": _spread_of([percentiles(r.ingest_ms) for r in runs]),
        "ingest_from": {
            p: _spread_of([percentiles(r.ingest_ms_from[p]) for r in runs]) for p in platforms
        },
        "load": {
            key: spread([r.load[key] for r in runs], 2)
            for key in runs[0].load
            if all(key in r.load for r in runs)
        },
        "write_calls_per_s": {
            p: spread([r.write_calls_per_s[p] for r in runs], 2) for p in platforms
        },
        "target_met": _targets(figures),
        "size": {**asdict(size), "repeat": repeat},
    }


def _figures(runs: Sequence[_Run], platform: str) -> dict[str, object]:
    per_run = [_with_unsettled(r.latencies[platform], r.unsettled[platform]) for r in runs]
    result = _spread_of([p for p, _ in per_run])
    result["p99_exact"] = all(exact for _, exact in per_run)
    result["unsettled"] = spread([float(len(r.unsettled[platform])) for r in runs], 0)
    return result


def _with_unsettled(
    settled: Sequence[float], ages: Sequence[float]
) -> tuple[dict[str, float | int | None], bool]:
    """Percentiles over settled delays and, for waits not over, their ages (floors); the
    p99 is exact when every floor lies above it (their true values do too)."""
    figures = percentiles([*settled, *ages])
    p99 = figures["p99"]
    exact = p99 is not None and all(a >= p99 for a in ages)
    return figures, exact


def _spread_of(figures: Sequence[Mapping[str, float | int | None]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key in ("p50", "p95", "p99"):
        values = [float(v) for f in figures if (v := f[key]) is not None]
        result[f"{key}_ms"] = spread(values) if values else None
    result["count"] = spread([float(f["count"] or 0) for f in figures], 0)
    return result


def _median_of(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]  # None: no bound (cannot keep up)
    return statistics.median(known) if len(known) == len(values) else None


def _targets(figures: Mapping[str, Mapping[str, object]]) -> dict[str, bool]:
    def p99(platform: str) -> float | None:
        f = figures.get(platform, {})
        value = f.get("p99_ms")
        exact = f.get("p99_exact") is True
        median = value.get("median") if isinstance(value, dict) else None
        return float(median) if exact and median is not None else None

    met = {
        f"{p}_p99_1s": (v := p99(p)) is not None and v <= TARGET_P99_MS
        for p in ("shopify", "ebay", "woocommerce")
    }
    amazon, bound = p99("amazon"), figures.get("amazon", {}).get("bound_ms")
    met["amazon_within_1_2x_bound"] = (
        amazon is not None and isinstance(bound, float) and amazon <= TARGET_OVER_BOUND * bound
    )
    return met
