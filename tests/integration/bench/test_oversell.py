"""The oversell scenario on a tiny shop: shoppers on every platform, the truth book
counts what each system let them oversell; periodic sync, which never pushes within the
run, oversells the most."""

from __future__ import annotations

from typing import Any

import pytest

from omnistock.kit.bench import oversell

TINY = oversell.OversellSize(skus=30, orders_per_s=1.0, duration_s=30.0, time_scale=5.0)


@pytest.mark.timeout(120)
async def test_every_system_is_measured_and_periodic_oversells_most() -> None:
    result: Any = await oversell.run(TINY, 1)  # JSON-shaped
    oversold = {
        system: result[system]["oversold_units"]["median"]
        for system in ("omnistock", "per_event", "periodic")
    }
    assert all(result[s]["orders"]["median"] > 0 for s in oversold)
    assert oversold["omnistock"] < oversold["periodic"]
    assert set(result["target_met"]) == {"tenth_of_periodic", "half_of_per_event"}
    assert result["size"]["units_in_stock"] > 0
    for system in oversold:  # where they were bought adds up to the total
        by_platform = result[system]["oversold_units_by_platform"]
        assert set(by_platform) == {"woocommerce", "shopify", "amazon", "ebay"}
        assert sum(f["median"] for f in by_platform.values()) == oversold[system]
