"""Figures over repetitions: the median with its range, as every scenario reports them."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence


def spread(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    """{"median", "min", "max"} of `values` (at least one)."""
    if not values:
        raise ValueError("no values to summarise")
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def percentiles(samples: Sequence[float], digits: int = 1) -> dict[str, float | int | None]:
    """p50/p95/p99 of latency samples (None where there are too few), and their count."""
    data = sorted(samples)
    if len(data) < 2:
        only = round(data[0], digits) if data else None
        return {"p50": only, "p95": None, "p99": None, "count": len(data)}
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], digits),
        "p95": round(cuts[94], digits),
        "p99": round(cuts[98], digits),
        "count": len(data),
    }


def merge_runs(runs: Sequence[Mapping[str, object]], digits: int = 3) -> dict[str, object]:
    """Repetitions of one measurement merged leaf by leaf: numbers become their spread,
    anything else keeps the first run's value (sizes, names)."""
    first = runs[0]
    merged: dict[str, object] = {}
    for key, value in first.items():
        values = [run[key] for run in runs]
        if isinstance(value, Mapping):
            merged[key] = merge_runs([v for v in values if isinstance(v, Mapping)], digits)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            numbers = [float(v) for v in values if isinstance(v, int | float)]
            merged[key] = spread(numbers, digits) if len(set(numbers)) > 1 else value
        else:
            merged[key] = value
    return merged
