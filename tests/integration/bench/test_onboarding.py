"""The onboarding measurement at a small size: every listing discovered once, with the
calls and the lower bounds the platforms' default limits give."""

from __future__ import annotations

from omnistock.kit.bench.onboarding_amazon_ebay import measure_onboarding


async def test_both_platforms_discover_every_listing_within_their_bounds() -> None:
    figures = await measure_onboarding(2_000)
    amazon, ebay = figures["amazon"], figures["ebay"]
    assert isinstance(amazon, dict)
    assert isinstance(ebay, dict)
    assert (amazon["discovered"], amazon["distinct"], amazon["managed"]) == (2_000, 2_000, 1_800)
    assert (amazon["calls"]["createReport"], amazon["calls"]["getReportDocument"]) == (1, 1)
    bound = amazon["lower_bound"]
    assert bound["report_processing_s"] <= amazon["platform_s"] < bound["report_processing_s"] + 15
    assert (bound["search_calls"], bound["search_s"]) == (100, 19.0)
    assert (ebay["discovered"], ebay["distinct"], ebay["managed"]) == (2_000, 2_000, 2_000)
    assert ebay["api_calls"] == ebay["lower_bound"]["calls"] == 10
    assert ebay["platform_s"] == 0.0
