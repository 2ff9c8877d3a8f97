"""Scenario `efficiency`: a burst of ledger changes (an ERP's receipts and adjustments over
many SKUs), and the API calls each system spends to bring every channel to the result.

Counted per platform: write calls (those that set stock; reads, polls and token calls are
not counted for any system) from the burst until the system has written it all, next to
the minimum: ⌈listings whose quantity changed / the platform's largest write⌉.
- omnistock: until every channel shows every listing's desired quantity.
- per_event: until every change has been forwarded (one call per change and listing).
- periodic: through its first full pass after the burst (what one period costs).

Platform time runs `time_scale` times faster than the wall clock (sandboxes and adapters
alike), so the baselines' rate-limited single calls finish in minutes; call counts do
not depend on it."""

from __future__ import annotations

import asyncio
import math
import random
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from omnistock.domain.events import LedgerEvent, StockAdjusted, StockReceived
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.kit.bench.rig import Rig, RigOptions, System, running
from omnistock.kit.bench.stats import spread
from omnistock.kit.merchant import MAIN
from omnistock.ledger.journal import MAX_BATCH

TARGET_FEWER_THAN_PER_EVENT = 50.0
TARGET_OVER_MINIMUM = 1.5
# A burst arrives at once (an ERP import), not spread over platform time: appends as large
# as the ledger takes, back to back.
APPEND_BATCH = MAX_BATCH


@dataclass(frozen=True, slots=True)
class EfficiencySize:
    events: int = 100_000
    skus: int = 10_000
    time_scale: float = 200.0
    seed: int = 11
    settle_timeout_s: float = 1_800.0  # wall seconds a system may take to write it all


FULL = EfficiencySize()
QUICK = EfficiencySize(events=2_000, skus=200, time_scale=200.0, settle_timeout_s=120.0)


async def run(size: EfficiencySize, repeat: int) -> dict[str, object]:
    runs: dict[System, list[dict[str, object]]] = {system: [] for system in System}
    for _ in range(repeat):
        for system in System:
            with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
                runs[system].append(await _one(size, system, Path(tmp)))
    return _report(size, repeat, runs)


async def _one(size: EfficiencySize, system: System, workdir: Path) -> dict[str, object]:
    options = RigOptions(
        skus=size.skus,
        seed=size.seed,
        time_scale=size.time_scale,
        system=system,
        polling=False,  # nobody orders: only the burst changes stock
    )
    rng = random.Random(size.seed)
    async with running(options, workdir) as rig:
        skus = [Sku(s) for s in rig.merchant.skus()]
        # The burst arrives at once. Its appends take seconds of wall time, which is minutes
        # of platform time: held meanwhile, omnistock's dispatchers see it whole, as they
        # would a real burst, and so does the periodic baseline's next pass (per_event,
        # by its definition, forwards each change when it comes). Held while the shop
        # settles too: a periodic pass every 4.5 s of wall time at x200, each setting off
        # a notification per listing, would otherwise never let it settle.
        with rig.held():
            await rig.quiet()
            rig.clear_calls()  # counted: the burst's calls only
            before = await _desired(rig)
            started = time.perf_counter()
            applied = 0
            for batch in _burst(size, skus, rng):
                results = await rig.store.ledger.append(batch)
                applied += sum(r.applied for r in results)
        passes = rig.periodic.passes if rig.periodic is not None else 0
        async with asyncio.timeout(size.settle_timeout_s):
            await _settled(rig, passes)
        seconds = time.perf_counter() - started
        after = await _desired(rig)
        changed = {listing for listing, qty in after.items() if before.get(listing) != qty}
        return {
            "calls": rig.write_calls(),
            "changed": {
                s.account: sum(listing.startswith(f"{s.account}:") for listing in changed)
                for s in rig.merchant.stores
            },
            "minimum": await _minimum(rig, changed),
            "seconds": seconds,
            "applied": applied,  # adjustments below zero are refused: not every event applies
        }


def _burst(size: EfficiencySize, skus: list[Sku], rng: random.Random) -> list[list[LedgerEvent]]:
    """`size.events` receipts and adjustments, every SKU touched at least once."""
    at = datetime.now(UTC)
    events: list[LedgerEvent] = []
    for n in range(size.events):
        sku = skus[n % len(skus)] if n < len(skus) else rng.choice(skus)
        key = f"burst:{n}"
        if rng.random() < 0.5:
            events.append(
                StockReceived(
                    idempotency_key=key,
                    sku=sku,
                    location=MAIN,
                    quantity=rng.randint(1, 20),
                    source="bench",
                    occurred_at=at,
                )
            )
        else:
            events.append(
                StockAdjusted(
                    idempotency_key=key,
                    sku=sku,
                    location=MAIN,
                    quantity=-rng.randint(1, 3),
                    reason="cycle count",
                    source="bench",
                    occurred_at=at,
                )
            )
    return [events[i : i + APPEND_BATCH] for i in range(0, len(events), APPEND_BATCH)]


async def _settled(rig: Rig, passes_before: int) -> None:
    while True:
        await asyncio.sleep(0.2)
        if rig.per_event is not None and not await rig.per_event.caught_up():
            continue
        if rig.periodic is not None:
            if rig.periodic.passes > passes_before:
                return
            continue
        if await rig.in_sync():
            return


async def _desired(rig: Rig) -> dict[ListingId, int]:
    found: dict[ListingId, int] = {}
    for s in rig.merchant.stores:
        listings = await rig.store.catalog.listings(s.account)
        states = await rig.store.sync.get([x.id for x in listings])
        found.update({listing: state.desired_qty for listing, state in states.items()})
    return found


async def _minimum(rig: Rig, changed: set[ListingId]) -> dict[AccountId, int]:
    """⌈changed listings / largest write⌉ per account — per write group where the API
    has them: WooCommerce writes variations through their parent product's batch
    endpoint, so each parent's changed variations are a group of their own."""
    found: dict[AccountId, int] = {}
    for s in rig.merchant.stores:
        max_batch = rig.engine.dispatchers[s.account].max_batch
        groups: dict[str, int] = {}
        for listing in await rig.store.catalog.listings(s.account):
            if listing.id in changed:
                ids = listing.external_ids
                group = ids.get("product_id", "") if ids.get("variation_id") else ""
                groups[group] = groups.get(group, 0) + 1
        found[s.account] = sum(math.ceil(n / max_batch) for n in groups.values())
    return found


def _report(
    size: EfficiencySize, repeat: int, runs: Mapping[System, list[dict[str, object]]]
) -> dict[str, object]:
    first = runs[System.OMNISTOCK][0]
    accounts = list(_as_counts(first["calls"]))
    platforms = {account: account.rsplit("-", 1)[0] for account in accounts}
    result: dict[str, object] = {}
    for system, system_runs in runs.items():
        calls = [_as_counts(r["calls"]) for r in system_runs]
        result[system.value] = {
            "write_calls": {platforms[a]: spread([c[a] for c in calls], 0) for a in accounts},
            "total_write_calls": spread([sum(c.values()) for c in calls], 0),
            "seconds": spread([float(str(r["seconds"])) for r in system_runs]),
        }
    minimum = _as_counts(first["minimum"])
    result["minimum"] = {platforms[a]: minimum[a] for a in accounts}
    result["events_applied"] = first["applied"]
    result["changed_listings"] = {platforms[a]: n for a, n in _as_counts(first["changed"]).items()}
    ours = _medians(runs[System.OMNISTOCK], accounts)
    per_event = _medians(runs[System.PER_EVENT], accounts)
    fewer = sum(per_event.values()) / max(sum(ours.values()), 1)
    over_minimum = {platforms[a]: ours[a] / max(minimum[a], 1) for a in accounts}
    result["ratios"] = {
        "per_event_over_omnistock": round(fewer, 1),
        "omnistock_over_minimum": {k: round(v, 3) for k, v in over_minimum.items()},
    }
    result["target_met"] = {
        "fewer_than_per_event_50x": fewer >= TARGET_FEWER_THAN_PER_EVENT,
        "within_1_5x_minimum": all(v <= TARGET_OVER_MINIMUM for v in over_minimum.values()),
    }
    result["size"] = {**asdict(size), "repeat": repeat}
    return result


def _medians(
    system_runs: list[dict[str, object]], accounts: list[AccountId]
) -> dict[AccountId, float]:
    calls = [_as_counts(r["calls"]) for r in system_runs]
    return {a: sorted(c[a] for c in calls)[len(calls) // 2] for a in accounts}


def _as_counts(value: object) -> dict[AccountId, int]:
    if not isinstance(value, dict):
        raise TypeError("expected a mapping of counts")
    return {AccountId(str(k)): int(v) for k, v in value.items()}
