"""Shopify's capabilities, and the rate state a GraphQL response reveals.

The Admin GraphQL API meters calculated query cost in a leaky bucket per app and store;
every answer reports it in `extensions.cost.throttleStatus`."""

from __future__ import annotations

from collections.abc import Mapping

from omnistock.adapters.base import Capabilities, CostBucket
from omnistock.adapters.http import retry_after_seconds
from omnistock.adapters.ratelimit import RateSignal

# 250: Shopify's cap on any array input. The Standard plan restores 100 points/s; the bucket
# size is not published (⚠️): 2000 is assumed until the first answer reports the real one.
BUCKET = CostBucket(capacity=2000, restore_per_s=100.0)
CAPABILITIES = Capabilities(max_batch=250, rate=BUCKET, compare_and_set=True)


def rate_signal(
    status: int, headers: Mapping[str, str], body: object, *, requested: float
) -> RateSignal | None:
    """What one answer says about pacing. `requested`: the cost this call asked for, so a
    THROTTLED answer says how long until the bucket can pay it."""
    cost = _cost(body)
    throttled = status == 429 or _throttled(body)
    retry_after = retry_after_seconds(headers.get("retry-after"))
    if cost is None:
        if not throttled and retry_after is None:
            return None
        return RateSignal(retry_after=retry_after, throttled=throttled)
    maximum, available, restore = cost
    if throttled and retry_after is None and restore > 0:
        retry_after = max(requested - available, 0.0) / restore
    return RateSignal(
        retry_after=retry_after,
        remaining=available,
        capacity=maximum,
        restore_per_s=restore,
        throttled=throttled,
    )


def _cost(body: object) -> tuple[float, float, float] | None:
    extensions = body.get("extensions") if isinstance(body, dict) else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    status = cost.get("throttleStatus") if isinstance(cost, dict) else None
    if not isinstance(status, dict):
        return None
    try:
        return (
            float(status["maximumAvailable"]),
            float(status["currentlyAvailable"]),
            float(status["restoreRate"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _throttled(body: object) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return False
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    )
