"""The efficiency scenario on a tiny shop: each system really writes the burst to every
platform, and omnistock's calls stay near the minimum while per-event's do not."""

from __future__ import annotations

from typing import Any

import pytest

from omnistock.kit.bench import efficiency

TINY = efficiency.EfficiencySize(events=240, skus=24, time_scale=200.0, settle_timeout_s=60.0)


@pytest.mark.timeout(120)
async def test_the_burst_is_written_by_every_system_and_counted() -> None:
    result: Any = await efficiency.run(TINY, 1)  # JSON-shaped
    platforms = {"woo", "shopify", "amazon", "ebay"}
    changed = result["changed_listings"]
    assert isinstance(changed, dict)
    assert set(changed) == platforms
    assert all(n > 0 for n in changed.values())
    calls = {
        system: {p: figures["median"] for p, figures in result[system]["write_calls"].items()}
        for system in ("omnistock", "per_event", "periodic")
    }
    # Per event: one call per applied event and listing (every SKU is on every platform).
    applied = result["events_applied"]
    assert 0 < applied <= TINY.events
    assert calls["per_event"] == dict.fromkeys(platforms, applied)
    # omnistock writes the burst in the fewest calls the batching platforms allow (per
    # parent product on WooCommerce); Amazon patches a backlog this small.
    for platform in ("woo", "shopify", "ebay"):
        assert calls["omnistock"][platform] == result["minimum"][platform], platform
    # Periodic: its first pass after the burst pushes every listing, in full batches.
    assert (calls["periodic"]["ebay"], calls["periodic"]["shopify"]) == (1, 1)
    assert result["ratios"]["per_event_over_omnistock"] > 1
    assert set(result["target_met"]) == {"fewer_than_per_event_50x", "within_1_5x_minimum"}
