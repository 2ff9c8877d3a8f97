"""The eBay push benchmark at a small size: every listing written, in the minimum calls."""

from __future__ import annotations

from omnistock.kit.bench.ebay_push import measure_push


async def test_60_listings_take_three_calls_and_all_show_their_new_quantity() -> None:
    report = await measure_push(60)
    assert report["listings"] == report["succeeded"] == 60
    assert report["api_calls"] == report["min_api_calls"] == 3  # ⌈60/25⌉
    assert report["sandbox_matches"] is True
    assert isinstance(report["updates_per_s_wall"], float)
    assert report["updates_per_s_wall"] > 0
    assert report["platform_seconds"] == 0  # far below the daily quota: nothing waited
    assert report["updates_per_s_quota_ceiling"] == round(2_000_000 * 25 / 86_400, 1)
