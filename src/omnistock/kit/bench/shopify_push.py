"""Shopify push throughput: one absolute quantity for each of `listings` inventory items,
through ShopifyAdapter in-process (ASGI) at the Standard plan's restore rate (100 points/s),
against the minimum of ⌈listings/250⌉ calls. Time is the harness's manual platform clock,
with the bucket drained at the start so the figure is the sustained (restore-bound) rate."""

from __future__ import annotations

import math
import time

import httpx

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.adapters.http import account_client
from omnistock.adapters.ratelimit import RateSignal, limiter_for
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify import CAPABILITIES, ShopifyAdapter
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.shopify import ShopifySandbox


async def measure_push(listings: int = 10_000) -> dict[str, object]:
    """Push `expected`-carrying updates (no read first) and report platform-time and wall
    rates, the write calls used and the minimum. A THROTTLED answer would raise out of
    push, so a finished run had none."""
    harness = ShopifySandbox.on_manual_clock(skus=listings, restore_rate=100.0)
    refs = harness.catalog_refs()
    shown = harness.store.shown()
    updates = [
        StockUpdate(ref=r, quantity=1 + i % 97, sequence=i, expected=shown[r.sku])
        for i, r in enumerate(refs)
    ]
    creds = harness.credentials()
    # Both buckets start empty: the sandbox's (drained below) and the adapter's estimate.
    limiter = limiter_for(CAPABILITIES.rate, harness.timer)
    limiter.observe(RateSignal(remaining=0.0))
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    adapter = ShopifyAdapter(
        AccountId("bench-shopify"),
        client,
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        timer=harness.timer,
        access_token=Secret(creds["access_token"]),
        limiter=limiter,
    )
    async with harness.running():
        harness.bucket.drain(harness.clock.now())
        harness.reset_calls()
        platform_start, wall_start = harness.clock.now(), time.perf_counter()
        try:
            results = await adapter.push(updates)
        finally:
            await adapter.aclose()
        platform_s = harness.clock.now() - platform_start
        wall_s = time.perf_counter() - wall_start
    writes = [c for c in harness.calls() if c.write]
    return {
        "listings": len(updates),
        "platform_seconds": round(platform_s, 3),
        "updates_per_s_platform": round(len(updates) / platform_s, 1) if platform_s else None,
        "wall_seconds": round(wall_s, 3),
        "updates_per_s_wall": round(len(updates) / wall_s, 1),
        "api_calls": len(writes),
        "min_api_calls": math.ceil(len(updates) / CAPABILITIES.max_batch),
        "succeeded": sum(r.status is ItemStatus.SUCCEEDED for r in results),
    }
