"""Onboarding time: discovering every listing of an Amazon and an eBay account through the
adapters in-process (ASGI), on the sandboxes' manual platform clocks, against the lower
bound their default limits allow (and, for Amazon, the read it was chosen over)."""

from __future__ import annotations

import math
import time
from collections import Counter

import httpx

from omnistock.adapters.amazon.discovery import POLL_EVERY_S
from omnistock.adapters.amazon.limits import RATES, Operation
from omnistock.adapters.amazon.wire import SEARCH_MAX_SKUS
from omnistock.adapters.base import ChannelAdapter, DiscoveredListing, DiscoversListings
from omnistock.adapters.ebay.discovery import PAGE_LIMIT
from omnistock.adapters.ebay.limits import INVENTORY_QUOTA
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.amazon import AmazonConfig, AmazonSandbox
from omnistock.kit.sandbox.amazon.notifications import SIGNATURE_HEADER as AMAZON_SIGNATURE
from omnistock.kit.sandbox.amazon.reports_api import ReportTiming
from omnistock.kit.sandbox.common.face import SandboxFace
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from omnistock.kit.sandbox.ebay import EbayConfig, EbaySandbox
from omnistock.kit.sandbox.ebay.notifications import SIGNATURE_HEADER as EBAY_SIGNATURE

# Not calls of the platform's metered APIs: token grants and the S3 download.
_UNMETERED = frozenset({"lwa.token", "oauth.token", "reportDocument.download"})
# ⚠️ Without identifiers, searchListingsItems pages reach at most this many items.
SEARCH_REACHABLE = 1_000
FBA_SHARE = 0.1  # of the Amazon account's listings, fulfilled by Amazon (unmanaged)


async def measure_onboarding(listings: int = 100_000) -> dict[str, object]:
    """Both platforms' discovery of `listings` listings, each on a fresh sandbox."""
    return {
        "listings": listings,
        "amazon": await measure_amazon(listings),
        "ebay": await measure_ebay(listings),
    }


async def measure_amazon(listings: int) -> dict[str, object]:
    fba = int(listings * FBA_SHARE)
    config = AmazonConfig(seed=1, skus=listings - fba, fba_listings=fba)
    harness = build_on_manual_clock(
        AmazonSandbox, config, signature_header=AMAZON_SIGNATURE, hang_s=1.0
    )
    figures = await _discover(harness)
    return figures | {"lower_bound": amazon_lower_bound(listings, config.report_timing)}


def amazon_lower_bound(listings: int, timing: ReportTiming) -> dict[str, object]:
    """The report: createReport, getReport and getReportDocument all fit their bursts (15),
    so the rates cost nothing and the floor is the time Amazon takes to build the report
    (the sandbox's ReportTiming ⚠️). searchListingsItems, 20 a call at 5/s after a burst of
    5, would take (calls - 5) / 5 s, if it could reach more than 1,000 items."""
    search = RATES[Operation.SEARCH_LISTINGS_ITEMS]
    search_calls = math.ceil(listings / SEARCH_MAX_SKUS)
    return {
        "report_calls": 3,
        "report_rate_s": 0.0,
        "report_processing_s": round(
            timing.queue_s + timing.base_s + timing.per_row_s * listings, 3
        ),
        "search_calls": search_calls,
        "search_s": round(max(search_calls - search.burst, 0) / search.per_s, 3),
        "search_reachable": SEARCH_REACHABLE,
        "poll_every_s": POLL_EVERY_S,
    }


async def measure_ebay(listings: int) -> dict[str, object]:
    config = EbayConfig(seed=1, skus=listings)
    harness = build_on_manual_clock(EbaySandbox, config, signature_header=EBAY_SIGNATURE, hang_s=1)
    figures = await _discover(harness)
    pages = math.ceil(listings / PAGE_LIMIT)
    return figures | {
        "lower_bound": {
            # A daily quota, no per-second rate: the calls go at once (the limiter spreads
            # them only below 10% of the quota left), so the bound is the round trips.
            "calls": pages,
            "rate_s": 0.0,
            "quota_share": pages / INVENTORY_QUOTA,
            "with_offers_calls": pages + listings,  # GET /offer?sku= per item, not made
            "with_offers_quota_share": (pages + listings) / INVENTORY_QUOTA,
        }
    }


async def _discover(harness: AmazonSandbox | EbaySandbox) -> dict[str, object]:
    adapter = _adapter(harness)
    if not isinstance(adapter, DiscoversListings):
        raise TypeError(f"the {harness.platform} adapter does not discover listings")
    discovering: DiscoversListings = adapter
    start, wall = harness.clock.now(), time.perf_counter()
    found: list[DiscoveredListing] = []
    pages, cursor = 0, None
    try:
        async with harness.running():
            while True:
                page = await discovering.discover(cursor)
                found.extend(page.listings)
                pages, cursor = pages + 1, page.cursor
                if cursor is None:
                    break
    finally:
        await adapter.aclose()
    wall_s = time.perf_counter() - wall
    by_operation = Counter(c.operation for c in harness.core.calls.records())
    calls = {op: n for op, n in sorted(by_operation.items()) if op not in _UNMETERED}
    return {
        "wall_s": round(wall_s, 3),
        "platform_s": round(harness.clock.now() - start, 3),
        "api_calls": sum(calls.values()),
        "calls": calls,
        "pages": pages,
        "discovered": len(found),
        "distinct": len({d.key for d in found}),
        "managed": sum(d.managed for d in found),
    }


def _adapter(face: SandboxFace) -> ChannelAdapter:
    connection = face.connection()
    platform = PLATFORMS[face.platform]
    return platform.create_adapter(
        AccountId(f"bench-{face.platform}"),
        platform.settings.of({**connection.settings, "base_url": face.api_url()}),
        {name: Secret(value) for name, value in connection.credentials.items()},
        timer=face.timer,
        transport=httpx.ASGITransport(app=face.app),
    )
