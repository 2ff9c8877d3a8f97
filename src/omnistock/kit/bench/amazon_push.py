"""Amazon push time: N changed MFN quantities by patchListingsItem and by one JSON_LISTINGS_FEED,
through AmazonAdapter in-process (ASGI) at the models' default limits, on the harness's
manual platform clock, against the lower bound those limits (and the feed timing) allow."""

from __future__ import annotations

import math
import time
from collections import Counter

import httpx

from omnistock.adapters.amazon import AmazonAdapter
from omnistock.adapters.amazon.limits import (
    FEED_WINDOW_S,
    FEEDS_PER_WINDOW,
    MAX_FEED_MESSAGES,
    RATES,
    Operation,
)
from omnistock.adapters.amazon.wire import lwa_url
from omnistock.adapters.base import ItemResult, ItemStatus, StockUpdate
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.amazon import AmazonSandbox
from omnistock.kit.sandbox.amazon.feeds_api import FeedTiming

# What the sandbox (and so the adapter) counts as calls: SP-API operations, not the LWA
# token grant nor the PUT/GET of a feed document at its pre-signed (S3) URL.
_NOT_SP_API = frozenset({"lwa.token", "document.upload", "document.download"})
# Per feed: createFeedDocument, createFeed, at least one getFeed, getFeedDocument.
_FEED_CALLS = 4
_MAX_ROUNDS = 10


async def measure_push(listings: int) -> dict[str, object]:
    """Both paths for `listings` distinct SKUs, each on a fresh sandbox whose buckets
    start full. `push_s` is platform time until push returned (every listing ACCEPTED);
    `applied_s` until the sandbox showed every quantity (plus Amazon's apply delay)."""
    timing = FeedTiming()
    return {
        "listings": listings,
        "patches": await _measure(listings, bulk_feed_from=listings + 1),
        "feed": await _measure(listings, bulk_feed_from=1),
        "lower_bound": {
            "patches_s": patch_lower_bound(listings),
            "patches_calls": listings,
            "feed_s": feed_lower_bound(listings, timing),
            "feed_calls": _FEED_CALLS * math.ceil(listings / MAX_FEED_MESSAGES),
        },
    }


def patch_lower_bound(listings: int) -> float:
    """patchListingsItem: the burst at once, then `per_s`; one call per listing."""
    patch = RATES[Operation.PATCH_LISTINGS_ITEM]
    return round(max(listings - patch.burst, 0) / patch.per_s, 3)


def feed_lower_bound(listings: int, timing: FeedTiming) -> float:
    """JSON_LISTINGS_FEED: ≤25,000 messages a feed, 5 feeds per 5 minutes, processed one
    after another (the sandbox's FeedTiming ⚠️: queue, then base + per message each)."""
    feeds = math.ceil(listings / MAX_FEED_MESSAGES)
    held_back = (math.ceil(feeds / FEEDS_PER_WINDOW) - 1) * FEED_WINDOW_S
    processing = timing.queue_s + feeds * timing.base_s + listings * timing.per_message_s
    return round(max(held_back, 0.0) + processing, 3)


async def _measure(listings: int, *, bulk_feed_from: int) -> dict[str, object]:
    harness = AmazonSandbox.on_manual_clock()
    refs = await harness.seed(listings, quantity=1)
    updates = [StockUpdate(ref=r, quantity=2 + i % 97, sequence=i) for i, r in enumerate(refs)]
    adapter = _adapter(harness, bulk_feed_from)
    async with harness.running():
        await adapter.read(refs[:1])  # the LWA grant, outside the measured push
        harness.reset_calls()
        start, wall = harness.clock.now(), time.perf_counter()
        try:
            results, rounds = await _push_until_taken(adapter, updates, harness)
        finally:
            await adapter.aclose()
        pushed = harness.clock.now() - start
        wall_s = time.perf_counter() - wall
        by_operation = Counter(c.operation for c in harness.core.calls.records())
        shown = [await harness.held(u.ref) for u in updates]
        applied = harness.clock.now() - start
    calls = {op: n for op, n in sorted(by_operation.items()) if op not in _NOT_SP_API}
    return {
        "push_s": round(pushed, 3),
        "applied_s": round(applied, 3),
        "wall_s": round(wall_s, 3),
        "api_calls": sum(calls.values()),
        "calls": calls,
        "feeds": calls.get("createFeed", 0),
        "accepted": sum(r.status is ItemStatus.ACCEPTED for r in results),
        "rounds": rounds,
        "throttled": sum(c.status == 429 for c in harness.core.calls.records()),
        "sandbox_matches": shown == [u.quantity for u in updates],
    }


async def _push_until_taken(
    adapter: AmazonAdapter, updates: list[StockUpdate], harness: AmazonSandbox
) -> tuple[list[ItemResult], int]:
    """Push, then re-push what came back FAILED_RETRYABLE after its retry_after, as the
    dispatcher would (a 429 can happen when a call taken from the adapter's bucket reaches
    Amazon's a little later, after the refill it counted on was capped at the burst)."""
    results = list(await adapter.push(updates))
    rounds = 1
    while retry := [i for i, r in enumerate(results) if r.status is ItemStatus.FAILED_RETRYABLE]:
        if rounds >= _MAX_ROUNDS:
            break
        await harness.timer.sleep(max(results[i].retry_after or 1.0 for i in retry))
        again = await adapter.push([updates[i] for i in retry])
        for i, result in zip(retry, again, strict=True):
            results[i] = result
        rounds += 1
    return results, rounds


def _adapter(harness: AmazonSandbox, bulk_feed_from: int) -> AmazonAdapter:
    creds = harness.credentials()
    base_url = harness.api_url()
    return AmazonAdapter(
        AccountId("bench-amazon"),
        account_client(base_url, transport=httpx.ASGITransport(app=harness.app)),
        seller_id=creds["seller_id"],
        marketplace_id=creds["marketplace_id"],
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        refresh_token=Secret(creds["refresh_token"]),
        notification_secret=Secret(creds["notification_secret"]),
        timer=harness.timer,
        lwa_url=lwa_url(base_url),
        bulk_feed_from=bulk_feed_from,
    )
