"""Per-operation token buckets (rate and burst from the models' usage plans, configurable):
each call takes one token; an empty bucket answers 429 QuotaExceeded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from omnistock.kit.sandbox.common.clock import SandboxClock

# (rate per second, burst) by operation, from the official SP-API models (vendored in
# tests/fidelity/amazon/specs).
DEFAULT_RATES: Mapping[str, tuple[float, int]] = {
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    "putListingsItem": (5.0, 10),
    "deleteListingsItem": (5.0, 5),
    "searchListingsItems": (5.0, 5),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "getFeedDocument": (0.0222, 10),
    "getOrders": (0.0167, 20),
    "getOrderItems": (0.5, 30),
    "searchOrders": (0.0056, 20),  # Orders 2026-01-01
    "getOrder": (0.5, 30),  # Orders 2026-01-01 (v0's getOrder is not served)
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    # Notifications: every operation 1 rps, burst 5.
    "getDestinations": (1.0, 5),
    "createDestination": (1.0, 5),
    "getDestination": (1.0, 5),
    "deleteDestination": (1.0, 5),
    "getSubscription": (1.0, 5),
    "createSubscription": (1.0, 5),
    "deleteSubscriptionById": (1.0, 5),
}
# A manual clock at ~1.8e9 s steps by ~2e-7 s: a client that waited exactly one token's
# refill may be a hair short. Tolerate that much, no more.
_EPSILON = 1e-3


@dataclass(slots=True)
class Bucket:
    rate: float
    burst: int
    level: float
    at: float

    def take(self, now: float) -> bool:
        self.level = min(float(self.burst), self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level < 1.0 - _EPSILON:
            return False
        self.level -= 1.0
        return True


class OperationBuckets:
    def __init__(self, clock: SandboxClock, rates: Mapping[str, tuple[float, int]]) -> None:
        now = clock.now()
        self._clock = clock
        self._buckets = {op: Bucket(r, b, float(b), now) for op, (r, b) in rates.items()}

    def take(self, operation: str) -> bool:
        bucket = self._buckets.get(operation)
        return bucket is None or bucket.take(self._clock.now())

    def rate(self, operation: str) -> float | None:
        bucket = self._buckets.get(operation)
        return None if bucket is None else bucket.rate
