"""The WooCommerce push benchmark at a small size: every listing written, in the minimum calls."""

from __future__ import annotations

from omnistock.kit.bench.woo_push import measure_push


async def test_300_listings_take_three_calls() -> None:
    report = await measure_push(300)
    assert report["listings"] == report["succeeded"] == 300
    assert report["api_calls"] == report["min_api_calls"] == 3
    assert report["sandbox_matches"] is True
    assert isinstance(report["updates_per_s"], float)
    assert report["updates_per_s"] > 0
