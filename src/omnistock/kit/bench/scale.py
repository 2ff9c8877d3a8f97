"""`omnistock bench scale`: the first full push plan and a full reconciliation over 1,000,000
SKUs x 4 channel accounts, each timed in a fresh process with its peak memory.

The store is loaded through its own API (SKUs, stock received for every SKU, 4 accounts with
a listing per SKU each, every listing's desired quantity computed at its creation), in a
process of its own whose time is reported but excluded from the two measured operations:

- plan: every account's dispatcher computes its first sync's writes (`first_sync(dry_run=
  True)`), packed in the platform's batches, one account after the other as
  Engine.first_sync runs them;
- reconcile: after the first push is recorded, every account's dispatcher reads what its
  channel shows for every listing (`reconcile()`, one account after the other as
  Engine.reconcile runs them; the channel answers in process from a formula, `drift` of its
  listings showing another level) and records each level."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import PIPE
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omnistock.adapters import amazon, ebay, shopify, woocommerce
from omnistock.adapters.base import (
    Capabilities,
    ChannelEvent,
    ItemResult,
    ItemStatus,
    ListingRef,
    ObservedLevel,
    OrderPage,
    StockUpdate,
)
from omnistock.clock import SystemClock, SystemTimer
from omnistock.dispatch.batching import pack
from omnistock.dispatch.dispatcher import AccountDispatcher, DispatchSettings
from omnistock.domain.allocation import AllocationPolicy, desired_from_total
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.events import StockReceived
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.kit.bench.stats import spread
from omnistock.ledger.store import Store
from omnistock.ledger.sync_state import PushOutcome, PushStatus
from omnistock.process import configure as configure_process
from omnistock.process import run as run_async

PLATFORMS = ("amazon", "ebay", "shopify", "woocommerce")
CAPABILITIES: Mapping[str, Capabilities] = {
    "amazon": amazon.CAPABILITIES,
    "ebay": ebay.CAPABILITIES,
    "shopify": shopify.CAPABILITIES,
    "woocommerce": woocommerce.CAPABILITIES,
}
LOCATIONS = (LocationId("wh1"), LocationId("wh2"))
T0 = datetime(2026, 11, 1, tzinfo=UTC)
TARGET_SECONDS = 60.0
TARGET_MB = 2000.0  # 2 GB, in MB of 10^6 bytes


@dataclass(frozen=True)
class ScaleSize:
    skus: int = 1_000_000  # each listed on all four accounts
    drift: float = 0.01  # share of each account's listings whose channel shows another level
    load_batch: int = 10_000  # SKUs per catalog or ledger write while loading
    take: int = DispatchSettings().take  # listings per page read, as the dispatcher reads


FULL = ScaleSize()
QUICK = ScaleSize(skus=20_000)


# The catalog, derived from a SKU's index so that every process can tell what to expect.


def sku_of(i: int) -> Sku:
    return Sku(f"SKU{i:07d}")


def index_of(sku: str) -> int:
    return int(sku[3:])


def listing_of(platform: str, i: int) -> ListingId:
    return ListingId(f"{platform}:{sku_of(i)}")


# Built once: the in-process channel answers millions of reads from them.
_POLICIES = {
    platform: AllocationPolicy(safety_buffer=1, share=0.9 if platform == "amazon" else 1.0)
    for platform in PLATFORMS
}


def stock_of(i: int) -> int:
    """Units received for SKU i (1-60; with a safety buffer of 1, one SKU in 60 shows 0)."""
    return 1 + (i * 7919) % 60


def policy_of(platform: str) -> AllocationPolicy:
    return _POLICIES[platform]


def desired_of(platform: str, i: int) -> int:
    return desired_from_total(policy_of(platform), stock_of(i))


def external_ids(platform: str, i: int) -> dict[str, str]:
    """The platform's own ids of a listing, shaped as its adapter reads them."""
    if platform == "shopify":
        return {shopify.INVENTORY_ITEM_ID: str(40_000_000_000 + i), shopify.LOCATION_ID: "7001"}
    if platform == "ebay":
        return {ebay.LISTING_ID: str(110_000_000_000 + i)}
    if platform == "woocommerce":
        return {woocommerce.PRODUCT_ID: str(1_000 + i)}
    return {"sku": f"{sku_of(i)}-FBM"}


def drifted(platform: str, size: ScaleSize) -> frozenset[int]:
    """The SKU indexes whose listing on `platform` shows a level omnistock did not write."""
    rng = random.Random(f"{platform}:{size.skus}:{size.drift}")
    return frozenset(rng.sample(range(size.skus), round(size.skus * size.drift)))


# Loading (not timed as an operation).


async def load(store: Store, size: ScaleSize) -> dict[str, float]:
    """Seed the store through its API; seconds per phase. Stock comes before listings, so
    each listing's desired quantity is computed once, when it is created."""
    phases: dict[str, float] = {}
    started = time.perf_counter()
    for location in LOCATIONS:
        await store.catalog.put_location(Location(id=location))
    for chunk in _chunks(size):
        await store.catalog.put_items([Item(sku=sku_of(i)) for i in chunk])
    phases["items_seconds"] = _since(started)
    started = time.perf_counter()
    for chunk in _chunks(size):
        await store.ledger.append([_received(i) for i in chunk])
    phases["stock_seconds"] = _since(started)
    started = time.perf_counter()
    for platform in PLATFORMS:
        await store.catalog.put_account(
            ChannelAccount(id=AccountId(platform), platform=platform, policy=policy_of(platform))
        )
    for chunk in _chunks(size):
        await store.catalog.put_listings([_listing(p, i) for i in chunk for p in PLATFORMS])
    phases["listings_seconds"] = _since(started)
    return phases


async def record_first_push(store: Store, size: ScaleSize) -> None:
    """Record every listing's desired quantity as pushed (the first sync went through)."""
    for platform in PLATFORMS:
        after: ListingId | None = None
        while page := await store.sync.listed(AccountId(platform), after, size.load_batch):
            after = page[-1].state.listing
            await store.sync.record(
                [
                    PushOutcome(
                        listing=d.state.listing,
                        quantity=d.state.desired_qty,
                        sequence=d.state.desired_seq,
                        status=PushStatus.SUCCEEDED,
                    )
                    for d in page
                ]
            )


def _received(i: int) -> StockReceived:
    return StockReceived(
        idempotency_key=f"scale-{i}",
        sku=sku_of(i),
        location=LOCATIONS[i % 2],
        quantity=stock_of(i),
        source="bench",
        occurred_at=T0,
    )


def _listing(platform: str, i: int) -> Listing:
    return Listing(
        id=listing_of(platform, i),
        account=AccountId(platform),
        sku=sku_of(i),
        external_ids=external_ids(platform, i),
    )


def _chunks(size: ScaleSize) -> list[range]:
    step = size.load_batch
    return [range(i, min(i + step, size.skus)) for i in range(0, size.skus, step)]


# The measured operations.


class ReportingChannel:
    """A channel that answers reads in process: every listing shows its desired quantity
    (what the first push wrote), except the `drift` ones, which show one to five more."""

    def __init__(self, platform: str, drift: frozenset[int]) -> None:
        self._platform = platform
        self._drift = drift

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES[self._platform]

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        return [ItemResult(listing=u.ref.listing, status=ItemStatus.SUCCEEDED) for u in updates]

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        return [ObservedLevel(listing=r.listing, quantity=self._shown(r)) for r in refs]

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        return OrderPage(events=(), cursor=cursor, more=False)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        return ()

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        return False

    def is_echo(self, event: ChannelEvent) -> bool:
        return False

    async def aclose(self) -> None:
        return None

    def _shown(self, ref: ListingRef) -> int:
        i = index_of(ref.sku)
        shown = desired_of(self._platform, i)
        return shown + 1 + i % 5 if i in self._drift else shown


def dispatchers(store: Store, size: ScaleSize) -> list[AccountDispatcher]:
    """One dispatcher per account, as the engine runs them, over in-process channels."""
    settings = DispatchSettings(take=size.take)
    return [
        AccountDispatcher(
            AccountId(platform),
            ReportingChannel(platform, drifted(platform, size)),
            store,
            SystemTimer(),
            SystemClock(),
            settings=settings,
        )
        for platform in PLATFORMS
    ]


async def plan_account(dispatcher: AccountDispatcher) -> list[list[StockUpdate]]:
    """One account's first-sync writes, packed in its platform's batches."""
    report = await dispatcher.first_sync(dry_run=True)
    return pack(report.updates, CAPABILITIES[dispatcher.account].max_batch)


async def plan(store: Store, size: ScaleSize) -> dict[str, list[list[StockUpdate]]]:
    """Every account's plan, one account after the other (as Engine.first_sync runs them)."""
    return {d.account: await plan_account(d) for d in dispatchers(store, size)}


async def reconcile(store: Store, size: ScaleSize) -> dict[str, int]:
    """Every account's reconciliation as its dispatcher runs it, one account after the
    other (as Engine.reconcile runs them); the drift found per account."""
    return {d.account: await d.reconcile() for d in dispatchers(store, size)}


async def drift_recorded(store: Store) -> dict[str, set[ListingId]]:
    return {p: {s.listing for s in await store.sync.drift(AccountId(p))} for p in PLATFORMS}


def expected_drift(size: ScaleSize) -> dict[str, set[ListingId]]:
    return {p: {listing_of(p, i) for i in drifted(p, size)} for p in PLATFORMS}


# Each operation in a fresh process: its own peak RSS, nothing left from the others.

Figures = dict[str, float | int | bool]


def peak_rss_mb() -> float:
    """This process's peak resident memory since its program started. Linux carries
    `ru_maxrss` over fork and exec, so a child started by a large benchmark process (after
    the efficiency and oversell scenarios: 1.6 GB) reported its parent's peak as its own;
    /proc's VmHWM belongs to the running program's memory alone."""
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux


def _since(started: float) -> float:
    return time.perf_counter() - started


async def _timed_load(url: str, size: ScaleSize) -> Figures:
    store = await Store.open(url)
    try:
        started = time.perf_counter()
        phases = await load(store, size)
        seconds = _since(started)
    finally:
        await store.close()
    return {"seconds": seconds, **phases}


async def _timed_push_record(url: str, size: ScaleSize) -> Figures:
    store = await Store.open(url)
    try:
        started = time.perf_counter()
        await record_first_push(store, size)
        return {"seconds": _since(started)}
    finally:
        await store.close()


async def _timed_plan(url: str, size: ScaleSize) -> Figures:
    """Each account's plan is checked and dropped before the next (as the engine keeps
    only counts); only planning is timed."""
    seconds, covered, calls = 0.0, True, {}
    store = await Store.open(url)
    try:
        baseline = peak_rss_mb()
        for dispatcher in dispatchers(store, size):
            started = time.perf_counter()
            batches = await plan_account(dispatcher)
            seconds += _since(started)
            covered = covered and _covers(dispatcher.account, batches, size)
            calls[f"calls_{dispatcher.account}"] = len(batches)
            del batches
        peak = peak_rss_mb()
    finally:
        await store.close()
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
        "covers_every_listing": covered,
        **calls,
    }


def _covers(platform: str, batches: list[list[StockUpdate]], size: ScaleSize) -> bool:
    """Every listing of the account once, in order, with its desired quantity."""
    updates = (u for batch in batches for u in batch)
    expected = ((listing_of(platform, i), desired_of(platform, i)) for i in range(size.skus))
    return sum(map(len, batches)) == size.skus and all(
        (u.ref.listing, u.quantity) == want for u, want in zip(updates, expected, strict=False)
    )


async def _timed_reconcile(url: str, size: ScaleSize) -> Figures:
    store = await Store.open(url)
    try:
        baseline = peak_rss_mb()
        started = time.perf_counter()
        found = await reconcile(store, size)
        seconds, peak = _since(started), peak_rss_mb()
        exact = await drift_recorded(store) == expected_drift(size)
    finally:
        await store.close()
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
        "drift_found": sum(found.values()),
        "found_exactly_the_drift": exact,
    }


_OPERATIONS: Mapping[str, Callable[[str, ScaleSize], Coroutine[Any, Any, Figures]]] = {
    "load": _timed_load,
    "record_first_push": _timed_push_record,
    "plan": _timed_plan,
    "reconcile": _timed_reconcile,
}


def main(args: Sequence[str]) -> None:
    """The child's entry: `<operation> <url> <size as JSON>`; writes its figures as JSON."""
    name, url, size = args
    configure_process()  # as every `omnistock` command runs
    figures = run_async(_OPERATIONS[name](url, ScaleSize(**json.loads(size))))
    figures.setdefault("peak_rss_mb", peak_rss_mb())
    sys.stdout.write(json.dumps(figures))


async def in_fresh_process(name: str, url: str, size: ScaleSize) -> Figures:
    """Run one operation in a new interpreter (nothing inherited, so its peak RSS is the
    operation's own) and return its figures."""
    code = "import sys; from omnistock.kit.bench.scale import main; main(sys.argv[1:])"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, name, url, json.dumps(asdict(size)), stdout=PIPE
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"bench scale: {name} failed (exit status {child.returncode})")
    figures: Figures = json.loads(out)
    return figures


async def _on_copy(name: str, db: Path, size: ScaleSize) -> Figures:
    """Run an operation that writes on a copy of the loaded store, so every repetition
    starts from the same state (the store is closed, so its WAL is checkpointed)."""
    copy = db.with_name(f"copy-{db.name}")
    shutil.copyfile(db, copy)
    try:
        return await in_fresh_process(name, f"sqlite:///{copy}", size)
    finally:
        for path in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            path.unlink(missing_ok=True)


async def run(size: ScaleSize, repeat: int) -> dict[str, object]:
    """Load once, then `repeat` plans and reconciliations, each in a fresh process, on SQLite."""
    with tempfile.TemporaryDirectory(prefix="omnistock-scale-") as tmp:
        db = Path(tmp) / "scale.db"
        url = f"sqlite:///{db}"
        loaded = await in_fresh_process("load", url, size)
        plans = [await in_fresh_process("plan", url, size) for _ in range(repeat)]
        pushed = await in_fresh_process("record_first_push", url, size)
        reconciles = [await _on_copy("reconcile", db, size) for _ in range(repeat)]
    return _result(size, loaded, pushed, plans, reconciles)


def _result(
    size: ScaleSize,
    loaded: Figures,
    pushed: Figures,
    plans: list[Figures],
    reconciles: list[Figures],
) -> dict[str, object]:
    plan, recon = _operation_figures(plans), _operation_figures(reconciles)
    met = {
        f"{name}_{figure}": statistics.median(float(r[key]) for r in runs) <= target
        for name, runs in (("plan", plans), ("reconcile", reconciles))
        for figure, key, target in (
            ("seconds", "seconds", TARGET_SECONDS),
            ("memory", "peak_rss_mb", TARGET_MB),
        )
    }
    listings = size.skus * len(PLATFORMS)
    return {
        "omnistock": {
            "plan": {
                **plan,
                "listings": listings,
                "covers_every_listing": all(p["covers_every_listing"] for p in plans),
                "calls": {p: plans[0][f"calls_{p}"] for p in PLATFORMS},
            },
            "reconcile": {**recon, **_drift(size, reconciles)},
            "load": {
                "seconds": spread([float(loaded["seconds"])]),
                **{k: round(float(v), 1) for k, v in loaded.items() if k.endswith("_seconds")},
                "first_push_recorded_seconds": round(float(pushed["seconds"]), 1),
                "peak_rss_mb": spread([float(loaded["peak_rss_mb"])]),
            },
        },
        "target_met": met,
        "size": {**asdict(size), "accounts": len(PLATFORMS), "listings": listings},
    }


def _operation_figures(runs: list[Figures]) -> dict[str, dict[str, float]]:
    return {
        "seconds": spread([float(r["seconds"]) for r in runs], 3),
        "peak_rss_mb": spread([float(r["peak_rss_mb"]) for r in runs]),
        "baseline_rss_mb": spread([float(r["baseline_rss_mb"]) for r in runs]),
    }


def _drift(size: ScaleSize, runs: list[Figures]) -> dict[str, object]:
    expected = round(size.skus * size.drift) * len(PLATFORMS)
    return {
        "listings_read": size.skus * len(PLATFORMS),
        "drift_expected": expected,
        "drift_found": runs[0]["drift_found"],
        "found_exactly_the_drift": all(r["found_exactly_the_drift"] for r in runs),
    }
