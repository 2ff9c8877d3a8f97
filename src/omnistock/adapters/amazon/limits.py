"""Amazon's capabilities, the per-operation rates of the official models, and the rate state
an SP-API response reveals (x-amzn-RateLimit-Limit; 429 QuotaExceeded)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum

from omnistock.adapters.base import Capabilities, RateBurst
from omnistock.adapters.http import retry_after_seconds
from omnistock.adapters.ratelimit import RateSignal


class Operation(StrEnum):
    """The SP-API operations the adapter calls; each has its own token bucket."""

    PATCH_LISTINGS_ITEM = "patchListingsItem"
    SEARCH_LISTINGS_ITEMS = "searchListingsItems"  # reads, 20 SKUs a call
    GET_LISTINGS_ITEM = "getListingsItem"  # reads of a SKU that cannot be searched for
    CREATE_FEED_DOCUMENT = "createFeedDocument"
    CREATE_FEED = "createFeed"
    GET_FEED = "getFeed"
    GET_FEED_DOCUMENT = "getFeedDocument"
    SEARCH_ORDERS = "searchOrders"  # Orders 2026-01-01
    GET_ORDERS = "getOrders"  # Orders v0, the fallback
    GET_ORDER_ITEMS = "getOrderItems"
    CREATE_REPORT = "createReport"  # discovery: GET_MERCHANT_LISTINGS_ALL_DATA
    GET_REPORT = "getReport"
    GET_REPORT_DOCUMENT = "getReportDocument"
    GET_DESTINATIONS = "getDestinations"  # Notifications: destinations are grantless
    CREATE_DESTINATION = "createDestination"
    GET_SUBSCRIPTION = "getSubscription"
    CREATE_SUBSCRIPTION = "createSubscription"
    DELETE_SUBSCRIPTION = "deleteSubscriptionById"  # grantless


# Rate (requests/s) and burst per operation, from the usage-plan tables of the official
# SP-API models (2026 snapshot, vendored in tests/fidelity/amazon/specs). createFeed is the
# generic limit; a JSON_LISTINGS_FEED is further held to 5 submissions per 5 minutes
# (FEEDS_PER_WINDOW).
RATES: Mapping[Operation, RateBurst] = {
    Operation.PATCH_LISTINGS_ITEM: RateBurst(per_s=5.0, burst=5),
    Operation.SEARCH_LISTINGS_ITEMS: RateBurst(per_s=5.0, burst=5),
    Operation.GET_LISTINGS_ITEM: RateBurst(per_s=5.0, burst=10),
    Operation.CREATE_FEED_DOCUMENT: RateBurst(per_s=0.5, burst=15),
    Operation.CREATE_FEED: RateBurst(per_s=0.0083, burst=15),
    Operation.GET_FEED: RateBurst(per_s=2.0, burst=15),
    Operation.GET_FEED_DOCUMENT: RateBurst(per_s=0.0222, burst=10),
    Operation.SEARCH_ORDERS: RateBurst(per_s=0.0056, burst=20),
    Operation.GET_ORDERS: RateBurst(per_s=0.0167, burst=20),
    Operation.GET_ORDER_ITEMS: RateBurst(per_s=0.5, burst=30),
    Operation.CREATE_REPORT: RateBurst(per_s=0.0167, burst=15),
    Operation.GET_REPORT: RateBurst(per_s=2.0, burst=15),
    Operation.GET_REPORT_DOCUMENT: RateBurst(per_s=0.0167, burst=15),
    Operation.GET_DESTINATIONS: RateBurst(per_s=1.0, burst=5),
    Operation.CREATE_DESTINATION: RateBurst(per_s=1.0, burst=5),
    Operation.GET_SUBSCRIPTION: RateBurst(per_s=1.0, burst=5),
    Operation.CREATE_SUBSCRIPTION: RateBurst(per_s=1.0, burst=5),
    Operation.DELETE_SUBSCRIPTION: RateBurst(per_s=1.0, burst=5),
}
FEEDS_PER_WINDOW = 5
FEED_WINDOW_S = 300.0
MAX_FEED_MESSAGES = 25_000  # listings feed schema v2 `maxItems` (since 2025-05-06)

# ⚠️ Amazon publishes no processing time for JSON_LISTINGS_FEED; sellers report minutes.
# Five minutes from submission to report is the estimate the threshold is built on.
FEED_LATENCY_S = 300.0
# ⚠️ Nor does it publish how long an ACCEPTED submission (or an accepted feed message,
# whose "updates are being applied") takes to show; sellers report "a few minutes". The
# dispatcher reads ACCEPTED listings back after this long: erring late costs a slower
# confirmation, erring early a needless re-push. The sandbox applies after 5 s
# (AmazonConfig.apply_delay_s); its adapters are built with that figure instead.
CONFIRM_AFTER_S = 300.0


def feed_threshold(patch: RateBurst, feed_latency_s: float = FEED_LATENCY_S) -> int:
    """The backlog from which one feed finishes before patches would: patches drain the
    burst at once and then `per_s`, so N of them take (N - burst) / per_s seconds."""
    return patch.burst + math.ceil(feed_latency_s * patch.per_s)


def capabilities(
    bulk_feed_from: int | None = None, confirm_after_s: float = CONFIRM_AFTER_S
) -> Capabilities:
    """max_batch is a feed's message cap: the dispatcher hands the whole backlog over and
    the adapter chooses patches or a feed. `rate` is the write operation's bucket; every
    write is ACCEPTED, confirmed after `confirm_after_s`."""
    patch = RATES[Operation.PATCH_LISTINGS_ITEM]
    return Capabilities(
        max_batch=MAX_FEED_MESSAGES,
        rate=patch,
        bulk_feed_from=feed_threshold(patch) if bulk_feed_from is None else bulk_feed_from,
        confirm_after_s=confirm_after_s,
    )


CAPABILITIES = capabilities()


def rate_signal(status: int, headers: Mapping[str, str]) -> RateSignal | None:
    """x-amzn-RateLimit-Limit (best effort, absent on 429) is the operation's current rate.
    A 429 drains the bucket; SP-API sends no Retry-After, but one is honoured if present."""
    limit = _positive(headers.get("x-amzn-ratelimit-limit"))
    retry_after = retry_after_seconds(headers.get("retry-after"))
    throttled = status == 429
    if limit is None and retry_after is None and not throttled:
        return None
    return RateSignal(retry_after=retry_after, restore_per_s=limit, throttled=throttled)


def _positive(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and value > 0 else None
