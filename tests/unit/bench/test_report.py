"""Bench figures: spreads over repetitions, merged runs, and table rows."""

from __future__ import annotations

import pytest

from omnistock.kit.bench.report import rows
from omnistock.kit.bench.stats import merge_runs, percentiles, spread


def test_spread_and_percentiles() -> None:
    assert spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    with pytest.raises(ValueError, match="no values"):
        spread([])
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None, "count": 0}
    assert percentiles([5.0])["p50"] == 5.0
    cuts = percentiles([float(n) for n in range(1, 101)])
    assert (cuts["p50"], cuts["p95"], cuts["p99"], cuts["count"]) == (50.5, 95.0, 99.0, 100)


def test_merge_runs_spreads_numbers_that_vary_and_keeps_the_rest() -> None:
    runs = [
        {"calls": 10, "rate": 1.0, "name": "woo", "inner": {"x": 1}, "ok": True},
        {"calls": 10, "rate": 3.0, "name": "woo", "inner": {"x": 2}, "ok": True},
    ]
    assert merge_runs(runs) == {
        "calls": 10,
        "rate": {"median": 2.0, "min": 1.0, "max": 3.0},
        "name": "woo",
        "inner": {"x": {"median": 1.5, "min": 1.0, "max": 2.0}},
        "ok": True,
    }


def test_rows_flatten_nested_figures() -> None:
    result = {
        "omnistock": {"calls": {"median": 4, "min": 3, "max": 9}, "same": spread([2.0, 2.0])},
        "target_met": {"x": False},
        "size": {"skus": 10_000, "ratio": 0.25, "rate": 12_345.6},
    }
    assert list(rows(result)) == [
        ("omnistock.calls", "4 (3..9)"),
        ("omnistock.same", "2"),
        ("target_met.x", "False"),
        ("size.skus", "10,000"),
        ("size.ratio", "0.25"),
        ("size.rate", "12,346"),
    ]
