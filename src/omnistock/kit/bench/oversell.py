"""Scenario `oversell`: scarce stock (1-5 units per SKU) and shoppers on every channel
buying what their channel shows, with zero safety buffer; the units sold that the
warehouse did not have, per system.

Load and time are in platform seconds (`time_scale` times faster than the wall clock,
shoppers included), so the periodic baseline's 15-minute period and the platforms' rate
limits keep their real proportions to the shoppers' pace."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.events import LedgerEvent
from omnistock.kit.bench.rig import RigOptions, System, running
from omnistock.kit.bench.stats import spread
from omnistock.kit.merchant import Merchant, opening_stock

TARGET_VS_PERIODIC = 1 / 10
TARGET_VS_PER_EVENT = 1 / 2


@dataclass(frozen=True, slots=True)
class OversellSize:
    skus: int = 1_000
    # Per channel, platform time: above what one call per change can keep up with on
    # Amazon (5 patches/s) — where forwarding every event falls behind.
    orders_per_s: float = 2.0
    duration_s: float = 600.0  # platform seconds of shopping
    # Shoppers, sandboxes and engine share this process: a faster clock would measure
    # the CPU, not the systems.
    time_scale: float = 2.5
    seed: int = 5


FULL = OversellSize()
QUICK = OversellSize(skus=100, duration_s=80.0, time_scale=5.0)


async def run(size: OversellSize, repeat: int) -> dict[str, object]:
    runs: dict[System, list[Mapping[str, int]]] = {system: [] for system in System}
    for n in range(repeat):
        for system in System:
            with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
                runs[system].append(await _one(size, system, Path(tmp), size.seed + n))
    return _report(size, repeat, runs)


async def _one(size: OversellSize, system: System, workdir: Path, seed: int) -> dict[str, int]:
    options = RigOptions(
        skus=size.skus,
        seed=seed,
        time_scale=size.time_scale,
        system=system,
        policy=AllocationPolicy(safety_buffer=0, low_stock=1),
    )

    def scarce(merchant: Merchant) -> list[LedgerEvent]:
        return opening_stock(merchant, seed, datetime.now(UTC), low=1, high=5)

    async with running(options, workdir, scarce) as rig:
        truth = rig.merchant.truth
        units = sum(truth.snapshot().values())
        wall_rate = size.orders_per_s * size.time_scale
        for store in rig.merchant.stores:
            store.sandbox.core.shoppers.set_rate(wall_rate)
        await asyncio.sleep(size.duration_s / size.time_scale)
        for store in rig.merchant.stores:
            store.sandbox.core.shoppers.set_rate(0.0)
        writes = rig.write_calls()
        by_platform = {
            f"{figure}_{store.platform}": value
            for store in rig.merchant.stores
            for figure, value in (
                ("oversold_units", store.sandbox.core.shoppers.oversold_units),
                ("write_calls", writes[store.account]),
            )
        }
        return {
            **by_platform,
            "oversold_units": truth.oversold_units,
            "oversold_orders": truth.oversold_orders,
            "orders": truth.orders_accepted,
            "units_in_stock": units,
        }


def _report(
    size: OversellSize, repeat: int, runs: Mapping[System, list[Mapping[str, int]]]
) -> dict[str, object]:
    result: dict[str, object] = {}
    medians: dict[System, float] = {}
    for system, system_runs in runs.items():
        oversold = [float(r["oversold_units"]) for r in system_runs]
        figures: dict[str, object] = {
            "oversold_units": spread(oversold, 0),
            "oversold_orders": spread([float(r["oversold_orders"]) for r in system_runs], 0),
            "orders": spread([float(r["orders"]) for r in system_runs], 0),
        }
        # Where the oversold units were bought (the channel that showed stale stock), and
        # the calls that set stock on each channel.
        for figure in ("oversold_units", "write_calls"):
            figures[f"{figure}_by_platform"] = {
                key.removeprefix(f"{figure}_"): spread([float(r[key]) for r in system_runs], 0)
                for key in sorted(system_runs[0])
                if key.startswith(f"{figure}_")
            }
        medians[system] = spread(oversold, 0)["median"]
        result[system.value] = figures
    ours = medians[System.OMNISTOCK]
    result["ratios"] = {
        "omnistock_over_periodic": _ratio(ours, medians[System.PERIODIC]),
        "omnistock_over_per_event": _ratio(ours, medians[System.PER_EVENT]),
    }
    result["target_met"] = {
        "tenth_of_periodic": ours <= medians[System.PERIODIC] * TARGET_VS_PERIODIC,
        "half_of_per_event": ours <= medians[System.PER_EVENT] * TARGET_VS_PER_EVENT,
    }
    units = runs[System.OMNISTOCK][0]["units_in_stock"]
    result["size"] = {**asdict(size), "repeat": repeat, "units_in_stock": units}
    return result


def _ratio(ours: float, theirs: float) -> float | None:
    return None if theirs == 0 else round(ours / theirs, 3)
