"""The scenarios `omnistock bench` runs, by name: each takes the command's options and
returns one JSON-ready object (figures per system, bounds or ceilings, `target_met`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from omnistock.kit.bench import (
    efficiency,
    ingest,
    latency,
    ledger,
    onboarding,
    oversell,
    push,
    scale,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchOptions:
    quick: bool = False
    repeat: int = 3
    postgres: str | None = None  # a DSN: PostgreSQL runs beside SQLite where a scenario can
    batch: int = 1_000  # ledger: events per append


Scenario = Callable[[BenchOptions], Coroutine[Any, Any, dict[str, object]]]


def _ingest(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    return ingest.run(ingest.QUICK if o.quick else ingest.FULL, o.repeat, o.postgres)


def _latency(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    return latency.run(latency.QUICK if o.quick else latency.FULL, o.repeat)


def _efficiency(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    return efficiency.run(efficiency.QUICK if o.quick else efficiency.FULL, o.repeat)


def _oversell(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    return oversell.run(oversell.QUICK if o.quick else oversell.FULL, o.repeat)


def _scale(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    return scale.run(scale.QUICK if o.quick else scale.FULL, o.repeat)


def _ledger(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    size = ledger.QUICK if o.quick else ledger.LedgerBenchSize()
    return ledger.run(dataclasses.replace(size, batch=o.batch), o.repeat, o.postgres)


def _push(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    return push.run(1_000 if o.quick else 10_000, o.repeat)


def _onboarding(o: BenchOptions) -> Coroutine[Any, Any, dict[str, object]]:
    return onboarding.run(onboarding.QUICK if o.quick else onboarding.FULL, o.repeat)


SCENARIOS: dict[str, Scenario] = {
    "ingest": _ingest,
    "latency": _latency,
    "efficiency": _efficiency,
    "oversell": _oversell,
    "scale": _scale,
    "ledger": _ledger,
    "push": _push,
    "onboarding": _onboarding,
}
# What `omnistock bench` runs when no scenario is named: the side-by-side comparisons.
DEFAULT = ("ingest", "latency", "efficiency", "oversell", "scale")
