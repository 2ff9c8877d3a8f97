"""WooCommerce push throughput: one absolute quantity for every listing of a seeded sandbox,
through WooCommerceAdapter in-process (ASGI), against the minimum of ⌈listings/100⌉ calls."""

from __future__ import annotations

import math
import statistics
import time

import httpx

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import CAPABILITIES, WooCommerceAdapter
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.woocommerce import WooSandbox

_WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - a sandbox-only value


async def measure_push(listings: int = 10_000) -> dict[str, object]:
    """Seed `listings` simple products, push a new quantity to each, and report sustained
    listing updates per second, the API calls used (sandbox call log) and the minimum."""
    harness = WooSandbox.on_manual_clock(webhook_secret=_WEBHOOK_SECRET, skus=listings)
    refs = harness.catalog_refs()
    updates = [StockUpdate(ref=r, quantity=1 + i % 97, sequence=i) for i, r in enumerate(refs)]
    adapter = _adapter(harness)
    async with harness.running():
        harness.reset_calls()
        started = time.perf_counter()
        try:
            results = await adapter.push(updates)
        finally:
            await adapter.aclose()
        elapsed = time.perf_counter() - started
        shown = [await harness.held(u.ref) for u in updates]
    calls = [c for c in harness.calls() if c.write]
    return {
        "listings": len(updates),
        "seconds": round(elapsed, 3),
        "updates_per_s": round(len(updates) / elapsed, 1),
        "api_calls": len(calls),
        "min_api_calls": math.ceil(len(updates) / CAPABILITIES.max_batch),
        "succeeded": sum(r.status is ItemStatus.SUCCEEDED for r in results),
        "sandbox_matches": shown == [u.quantity for u in updates],
    }


def _adapter(harness: WooSandbox) -> WooCommerceAdapter:
    creds = harness.credentials()
    transport = httpx.ASGITransport(app=harness.app)
    return WooCommerceAdapter(
        AccountId("bench-woo"),
        account_client(harness.api_url(), transport=transport),
        consumer_key=Secret(creds["consumer_key"]),
        consumer_secret=Secret(creds["consumer_secret"]),
        webhook_secret=Secret(_WEBHOOK_SECRET),
        timer=harness.timer,
    )


async def run(listings: int, repeat: int) -> dict[str, object]:
    """Medians over `repeat` pushes, as `omnistock bench push` reports them."""
    runs = [await measure_push(listings) for _ in range(repeat)]
    rates = [float(str(r["updates_per_s"])) for r in runs]
    calls = [int(str(r["api_calls"])) for r in runs]
    minimum = math.ceil(listings / CAPABILITIES.max_batch)
    return {
        "listings": listings,
        "repeat": repeat,
        "updates_per_s": round(statistics.median(rates), 1),
        "updates_per_s_min": min(rates),
        "updates_per_s_max": max(rates),
        "api_calls": statistics.median(calls),
        "min_api_calls": minimum,
        "calls_over_minimum": round(statistics.median(calls) / minimum, 3),
        "all_succeeded": all(r["succeeded"] == listings for r in runs),
        "sandbox_matches": all(r["sandbox_matches"] for r in runs),
    }
