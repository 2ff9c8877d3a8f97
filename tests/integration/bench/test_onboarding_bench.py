"""The onboarding figures at a small size: every listing discovered and saved, and linking."""

from __future__ import annotations

from omnistock.kit.bench.onboarding import measure_onboarding


async def test_the_figures_count_what_each_sandbox_holds() -> None:
    figures = await measure_onboarding(400)
    woo, shopify, linking = figures["woocommerce"], figures["shopify"], figures["linking"]
    assert isinstance(woo, dict)
    assert isinstance(shopify, dict)
    assert isinstance(linking, dict)
    assert woo["discovered"] == woo["saved"] >= 400
    assert shopify["discovered"] == shopify["saved"] == 400
    assert shopify["pages"] == -(-200 // shopify["variants_per_page"])
    assert linking["exact_linked"] <= linking["normalised_linked"] <= 400
