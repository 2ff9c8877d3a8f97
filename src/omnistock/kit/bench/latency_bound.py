"""Scenario `latency`'s lower bounds: the least delay each platform's rate limit and batch
size allow at a given load, and the arithmetic behind it (pure; see bench.latency).

The lower bound per platform is what its rate limit and batch size allow at the measured
arrival rate λ of changes it must be written (orders on the other channels, restocks),
spread over S listings; n(λ, T) = S·(1 - e^(-λT/S)) of them change within T seconds.
- μ write calls/s (sustained), up to B listings each: a change waits for the next call.
  For a given call rate, evenly spaced calls minimise every quantile of that wait (a
  change's wait is uniform over the gap it falls in; longer gaps catch more changes), so
  the q-quantile is at least q/μ + r, with r one write call's round trip measured against
  the sandbox (client side, idle, median of 3); None if n(λ, 1/μ) > B (cannot keep up).
  - Shopify (CostBucket): μ = 100 points/s / 10 per inventorySetQuantities = 10/s,
    B = 250. Reading levels before writing is the adapter's choice, not the platform's
    price, so the bound leaves it out.
  - eBay (DailyQuota): μ = 2,000,000 calls / 86,400 s = 23/s, B = 25. The limiter spends
    the day's quota unpaced until 90% is gone, so a short run can beat this sustainable
    bound. (Neither would the 250 revisions per listing per day last a day at this load.)
  - WooCommerce (ServerPaced): no published limit; 4 calls in flight, μ = 4/r, B = 100.
- Amazon: the better of two schedules, both ending with the sandbox's apply delay
  (`apply_delay_s`, ACCEPTED → shown):
  - patches only (5/s, burst 5: the models' figure), each carrying a listing's coalesced
    changes: every changed listing once per period P, the least P with n(λ, P) ≤ 5·P;
    q·P + r + apply delay.
  - feeds: patches take a share f = min(1, 5/λ) at r + apply delay, the rest waits for
    a JSON_LISTINGS_FEED, one every T = the least T ≥ max(1/createFeed rate (0.0083/s:
    120 s), 5 min / 5 feeds) with D(T) ≤ T, D(T) = base + per message x n(λ(1-f), T)
    being the sandbox's processing time (feeds run one at a time). Such a change takes
    the wait for the next feed + 3 round trips (document, upload, createFeed) + queue
    time + D(T) + apply delay; overall, its quantile (q - f)/(1 - f) of the wait. (f
    ignores that a patch coalesces: at the full size that moves the bound by under 1%.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from omnistock.adapters.amazon.limits import FEED_WINDOW_S, FEEDS_PER_WINDOW, RATES, Operation
from omnistock.adapters.base import Capabilities, CostBucket, DailyQuota, RateBurst, ServerPaced
from omnistock.adapters.shopify.wire import MUTATION_COST
from omnistock.domain.ids import AccountId
from omnistock.kit.merchant import Merchant
from omnistock.kit.sandbox.amazon import AmazonConfig, AmazonSandbox

QUANTILE = 0.99
DAY_S = 86_400.0
AMAZON_SUBMIT_CALLS = 3  # createFeedDocument, the upload, createFeed


def bounds_ms(
    merchant: Merchant,
    capabilities: Mapping[AccountId, Capabilities],
    arrivals: Mapping[AccountId, float],
    rtt: Mapping[AccountId, float],
    skus: int,
) -> dict[str, float | None]:
    """Each platform's lower bound (ms) at its measured arrival rate; None: none keeps up."""
    amazon = amazon_timing(merchant)
    found: dict[str, float | None] = {}
    for s in merchant.stores:
        caps = capabilities[s.account]
        bound = lower_bound_s(
            s.platform, caps, arrivals[s.account], rtt[s.account], skus, amazon=amazon
        )
        found[s.platform] = None if bound is None else bound * 1000
    return found


@dataclass(frozen=True, slots=True)
class AmazonTiming:
    """The sandbox's figures a change to Amazon waits for (see AmazonConfig)."""

    apply_delay_s: float
    queue_s: float
    base_s: float
    per_message_s: float


def lower_bound_s(
    platform: str,
    capabilities: Capabilities,
    arrivals_per_s: float,
    rtt_s: float,
    skus: int,
    *,
    quantile: float = QUANTILE,
    amazon: AmazonTiming | None = None,
) -> float | None:
    """The least `quantile` of the delay the platform's limits allow at `arrivals_per_s`
    changes/s over `skus` listings (see the module docstring); None: nothing keeps up."""
    rate = capabilities.rate
    if platform == "amazon" and isinstance(rate, RateBurst):
        timing = amazon or timing_of(AmazonConfig())
        by_patches = _patch_bound(rate, arrivals_per_s, rtt_s, skus, quantile, timing)
        by_feeds = _feed_bound(rate, arrivals_per_s, rtt_s, skus, quantile, timing)
        return min(by_patches, by_feeds)
    calls_per_s = _calls_per_s(rate, rtt_s)
    if distinct(arrivals_per_s, 1 / calls_per_s, skus) > capabilities.max_batch:
        return None
    return quantile / calls_per_s + rtt_s


def _calls_per_s(rate: CostBucket | RateBurst | DailyQuota | ServerPaced, rtt_s: float) -> float:
    match rate:
        case CostBucket():
            return rate.restore_per_s / MUTATION_COST
        case RateBurst():
            return rate.per_s
        case DailyQuota():
            return rate.calls / DAY_S
        case ServerPaced():
            return rate.max_in_flight / rtt_s


def _patch_bound(
    patch: RateBurst, arrivals: float, rtt_s: float, skus: int, q: float, timing: AmazonTiming
) -> float:
    """Patches only, each listing's changes coalesced: every changed listing patched once
    per period P, the shortest P with distinct(P) <= P x patches/s."""
    period = _fixed_point(1 / patch.per_s, lambda p: distinct(arrivals, p, skus) / patch.per_s)
    return q * period + rtt_s + timing.apply_delay_s


def _feed_bound(
    patch: RateBurst, arrivals: float, rtt_s: float, skus: int, q: float, timing: AmazonTiming
) -> float:
    by_patch = min(1.0, patch.per_s / arrivals) if arrivals > 0 else 1.0
    if by_patch >= q:
        return rtt_s + timing.apply_delay_s
    by_feed = arrivals * (1 - by_patch)
    every = feed_interval_s(by_feed, skus, timing)
    processing = timing.base_s + timing.per_message_s * distinct(by_feed, every, skus)
    wait = (q - by_patch) / (1 - by_patch) * every
    submit = AMAZON_SUBMIT_CALLS * rtt_s
    return wait + submit + timing.queue_s + processing + timing.apply_delay_s


def feed_interval_s(arrivals_per_s: float, skus: int, timing: AmazonTiming) -> float:
    """The shortest sustainable time between feeds: createFeed's rate, the 5-per-5-minutes
    cap, and one feed processed before the next starts (the sandbox runs them in turn)."""
    create = RATES[Operation.CREATE_FEED].per_s
    floor = max(1 / create, FEED_WINDOW_S / FEEDS_PER_WINDOW)
    return _fixed_point(
        floor,
        lambda t: timing.base_s + timing.per_message_s * distinct(arrivals_per_s, t, skus),
    )


def _fixed_point(floor: float, needed: Callable[[float], float]) -> float:
    """The least t >= floor with needed(t) <= t, for `needed` increasing and concave
    (iterating t = needed(t) from the floor climbs to it)."""
    t = floor
    for _ in range(1_000):
        want = needed(t)
        if want <= t * (1 + 1e-9):
            return t
        t = want
    return t


def distinct(arrivals_per_s: float, seconds: float, skus: int) -> float:
    """Expected distinct listings among arrivals_per_s x seconds changes spread evenly
    over `skus` listings."""
    if skus <= 0:
        return 0.0
    return skus * (1 - math.exp(-arrivals_per_s * seconds / skus))


def amazon_timing(merchant: Merchant) -> AmazonTiming:
    """The figures of the merchant's Amazon sandbox (the defaults if it has none)."""
    found = [s.sandbox.config for s in merchant.stores if isinstance(s.sandbox, AmazonSandbox)]
    return timing_of(found[0] if found else AmazonConfig())


def timing_of(config: AmazonConfig) -> AmazonTiming:
    feeds = config.feed_timing
    return AmazonTiming(config.apply_delay_s, feeds.queue_s, feeds.base_s, feeds.per_message_s)
