"""The latency benchmark at a tiny size: every platform gets measurements, the percentiles
are ordered and the bounds positive (the bound's arithmetic: test_latency_bound)."""

from __future__ import annotations

import pytest

from omnistock.kit.bench import latency
from omnistock.kit.merchant import PLATFORM_ORDER

# Amazon shows a write 5 s after accepting it: the drain leaves room for that.
TINY = latency.LatencySize(
    skus=12, orders_per_s=16.0, warmup_s=0.5, load_s=3.0, drain_s=8.0, opening_low=30
)


def _median(value: object) -> float:
    assert isinstance(value, dict)
    return float(value["median"])


@pytest.mark.timeout(60)
async def test_every_platform_measured_with_ordered_percentiles_and_a_positive_bound() -> None:
    result = await latency.run(TINY, repeat=1)
    figures = result["omnistock"]
    assert isinstance(figures, dict)
    assert set(figures) == set(PLATFORM_ORDER)
    for platform, f in figures.items():
        assert _median(f["count"]) > _median(f["unsettled"]), platform  # some settled
        p50, p95, p99 = (_median(f[k]) for k in ("p50_ms", "p95_ms", "p99_ms"))
        assert 0 < p50 <= p95 <= p99, platform
        bound = f["bound_ms"]
        assert isinstance(bound, float)
        assert bound > 0
    targets = result["target_met"]
    assert isinstance(targets, dict)
    assert set(targets) == {
        "shopify_p99_1s",
        "ebay_p99_1s",
        "woocommerce_p99_1s",
        "amazon_within_1_2x_bound",
    }
    load = result["load"]
    assert isinstance(load, dict)
    assert _median(load["orders_per_s"]) > TINY.orders_per_s / 2
    assert _median(load["restock_events_per_s"]) > 0
