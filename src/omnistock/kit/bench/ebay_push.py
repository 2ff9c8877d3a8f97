"""eBay push throughput: one absolute quantity for each of `listings` published listings,
through EbayAdapter in-process (ASGI) at the default daily quotas, against the minimum of
⌈listings/25⌉ bulk_update_price_quantity calls.

eBay meters calls per day, not per second: at the default Inventory quota (2,000,000 calls,
⚠️ unpublished) a push of this size never meets the limit, so no platform time passes and
the rate is the wall rate (sandbox and adapter work). The quota's own ceiling, reported
beside it, is the sustained rate a whole day of full calls allows."""

from __future__ import annotations

import math
import time

import httpx

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.adapters.ebay import CAPABILITIES, EbayAdapter, EbaySession
from omnistock.adapters.ebay.limits import INVENTORY_QUOTA
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.ebay import EbaySandbox

DAY = 86_400


async def measure_push(listings: int = 10_000) -> dict[str, object]:
    """Seed `listings` single-SKU listings, push a new quantity to each (carrying the
    current one as `expected`), and report rates, write calls against the minimum, and
    whether every listing shows its new quantity."""
    harness = EbaySandbox.on_manual_clock()
    refs = await harness.seed(listings, quantity=100)
    updates = [
        StockUpdate(ref=r, quantity=1 + i % 97, sequence=i, expected=100)
        for i, r in enumerate(refs)
    ]
    adapter = _adapter(harness)
    async with harness.running():
        harness.reset_calls()
        platform_start, wall_start = harness.clock.now(), time.perf_counter()
        try:
            results = await adapter.push(updates)
        finally:
            await adapter.aclose()
        platform_s = harness.clock.now() - platform_start
        wall_s = time.perf_counter() - wall_start
    writes = [c for c in harness.calls() if c.write]
    shown = [await harness.held(u.ref) for u in updates]
    return {
        "listings": len(updates),
        "wall_seconds": round(wall_s, 3),
        "updates_per_s_wall": round(len(updates) / wall_s, 1),
        "platform_seconds": round(platform_s, 3),
        "updates_per_s_platform": round(len(updates) / platform_s, 1) if platform_s else None,
        "api_calls": len(writes),
        "min_api_calls": math.ceil(len(updates) / CAPABILITIES.max_batch),
        "daily_quota": INVENTORY_QUOTA,
        "quota_share_used": round(len(writes) / INVENTORY_QUOTA, 6),
        "updates_per_s_quota_ceiling": round(INVENTORY_QUOTA * CAPABILITIES.max_batch / DAY, 1),
        "succeeded": sum(r.status is ItemStatus.SUCCEEDED for r in results),
        "sandbox_matches": shown == [u.quantity for u in updates],
    }


def _adapter(harness: EbaySandbox) -> EbayAdapter:
    creds = harness.credentials()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    session = EbaySession(
        AccountId("bench-ebay"),
        client,
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        refresh_token=Secret(creds["refresh_token"]),
        timer=harness.timer,
    )
    return EbayAdapter(AccountId("bench-ebay"), session, timer=harness.timer)
