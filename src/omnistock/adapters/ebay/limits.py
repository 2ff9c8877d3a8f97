"""eBay's capabilities, and the quota state the Analytics rate_limit report and a refused
call reveal. eBay meters calls per API per day; it sends no rate-limit headers (⚠️)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from omnistock.adapters.base import Capabilities, DailyQuota
from omnistock.adapters.http import retry_after_seconds
from omnistock.adapters.ratelimit import RateSignal

INVENTORY_RESOURCE = "sell.inventory"
FULFILLMENT_RESOURCE = "sell.fulfillment"
# 25 requests per bulk_update_price_quantity. The Inventory API's default daily quota is
# not published (⚠️): 2,000,000 is the commonly cited figure; the rate_limit report
# replaces it as soon as it is read.
INVENTORY_QUOTA = 2_000_000
# Four writes at once: only the day's count is metered, so one call at a time would let the
# round trip bound the rate (under load, ~100 ms: 10 calls/s). eBay refuses concurrent access
# to one SKU or item group (25025): a pass holds each listing once, the adapter's SkuGate
# never has one SKU in two writes, and what 25025 still refuses is sent again alone.
CAPABILITIES = Capabilities(max_batch=25, rate=DailyQuota(calls=INVENTORY_QUOTA, max_in_flight=4))
FULFILLMENT_QUOTA = 100_000  # ⚠️ likewise unpublished


@dataclass(frozen=True, slots=True)
class QuotaState:
    limit: int
    remaining: int
    reset_in: float  # seconds until the window restarts


def quota_states(body: object, now: datetime) -> dict[str, QuotaState]:
    """Pure: resource name -> its daily rate, from a RateLimitsResponse."""
    states: dict[str, QuotaState] = {}
    limits = body.get("rateLimits") if isinstance(body, dict) else None
    for api in limits if isinstance(limits, list) else []:
        for resource in api.get("resources") or [] if isinstance(api, dict) else []:
            state = _daily(resource.get("rates") or [], now)
            if state is not None:
                states[str(resource.get("name"))] = state
    return states


def _daily(rates: list[object], now: datetime) -> QuotaState | None:
    for rate in rates:
        if not isinstance(rate, dict):
            continue
        try:
            reset = datetime.fromisoformat(str(rate["reset"]).replace("Z", "+00:00"))
            return QuotaState(
                int(rate["limit"]), int(rate["remaining"]), max((reset - now).total_seconds(), 0.0)
            )
        except (KeyError, TypeError, ValueError):
            continue
    return None


def quota_signal(state: QuotaState) -> RateSignal:
    return RateSignal(remaining=state.remaining, capacity=state.limit, reset_in=state.reset_in)


def refusal_signal(status: int, headers: Mapping[str, str]) -> RateSignal | None:
    """A 429 with Retry-After is a pause (an edge throttle); without one the day's quota is
    spent, which the caller confirms by reading the rate_limit report."""
    if status != 429:
        return None
    retry_after = retry_after_seconds(headers.get("retry-after"))
    if retry_after is not None:
        return RateSignal(retry_after=retry_after)
    return RateSignal(throttled=True)
