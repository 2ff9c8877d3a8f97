"""`omnistock bench push`: one push of `listings` changed listings through each platform's
adapter against its sandbox, at the platform's default limits, next to the fewest calls
(or the least time) those limits allow. Each platform's module says what it measures."""

from __future__ import annotations

from omnistock.kit.bench import amazon_push, ebay_push, shopify_push, woo_push
from omnistock.kit.bench.stats import merge_runs


async def run(listings: int, repeat: int) -> dict[str, object]:
    results: dict[str, object] = {}
    for platform, measure in (
        ("woocommerce", woo_push.measure_push),
        ("shopify", shopify_push.measure_push),
        ("amazon", amazon_push.measure_push),
        ("ebay", ebay_push.measure_push),
    ):
        results[platform] = merge_runs([await measure(listings) for _ in range(repeat)])
    results["size"] = {"listings": listings, "repeat": repeat}
    return results
