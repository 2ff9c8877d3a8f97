"""Client-side rate limiters for the four rate models, adapting to what responses report.

One limiter per account (per operation for Amazon); `limiter_for` builds it from a RateModel."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, assert_never

from omnistock.adapters.base import CostBucket, DailyQuota, RateBurst, RateModel, ServerPaced
from omnistock.clock import Timer

logger = logging.getLogger(__name__)

# Waits shorter than this are float noise from refill arithmetic, not a real shortfall.
_EPSILON = 1e-9
# The shortest sleep: a wait of nanoseconds would not move a clock that reads ~1.7e9 s
# (a float's step there is ~2e-7), and the waiter would loop forever.
_MIN_SLEEP = 1e-3
_NEVER = -math.inf


@dataclass(frozen=True, slots=True, kw_only=True)
class RateSignal:
    """What one response said about the account's rate state (None: not reported)."""

    retry_after: float | None = None  # seconds (429/503 Retry-After, Shopify THROTTLED hint)
    remaining: float | None = None  # points/tokens/calls left (Shopify currentlyAvailable)
    capacity: float | None = None  # bucket size / burst / daily limit, when reported
    restore_per_s: float | None = None  # refill rate (Shopify restoreRate; x-amzn-RateLimit-Limit)
    throttled: bool = False  # the call was refused for rate reasons
    reset_in: float | None = None  # seconds until a quota window resets (eBay rate_limit `reset`)


class RateLimiter(Protocol):
    def slot(self, cost: float = 1.0) -> AbstractAsyncContextManager[None]:
        """Wait until `cost` units may be spent, hold an in-flight slot while the body runs.

        Waiters are served first come, first served, so a costly call is not starved by
        cheap ones. Cancelling a waiter spends nothing. Never raises on its own."""
        ...

    def observe(self, signal: RateSignal) -> None:
        """Adapt to what a response reported (capacity, refill, remaining, pause).

        Call it for every response, refused or not; fields left None change nothing."""
        ...

    def delay(self, cost: float = 1.0) -> float:
        """Seconds until `cost` could be spent now (0 if at once); the dispatcher uses it
        to schedule. Queued waiters are not counted; spends nothing."""
        ...


class _Bucket:
    """`capacity` units refilled continuously at `rate` per second, plus a pause.

    The level may go below zero after a call costing more than is left (a debt that
    the refill repays), which is what the platform's own bucket does."""

    def __init__(self, capacity: float, rate: float, timer: Timer) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError(f"capacity and rate must be > 0, got {capacity} and {rate}")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self._timer = timer
        self._level = self.capacity
        self._at = timer.monotonic()
        self._paused_until = _NEVER
        self._queue = asyncio.Lock()  # FIFO: only the head waiter watches the refill

    def level(self) -> float:
        elapsed = self._timer.monotonic() - self._at
        return min(self.capacity, self._level + elapsed * self.rate)

    def delay(self, cost: float) -> float:
        # A cost above capacity could never be met; wait for a full bucket and let the
        # platform refuse it (Shopify rejects a query over its single-query maximum).
        shortfall = min(cost, self.capacity) - self.level()
        refill = shortfall / self.rate if shortfall > _EPSILON else 0.0
        return max(refill, self._paused_until - self._timer.monotonic(), 0.0)

    async def take(self, cost: float) -> None:
        async with self._queue:
            while (wait := self.delay(cost)) > 0:
                await self._timer.sleep(max(wait, _MIN_SLEEP))
            self._settle()
            self._level -= cost

    def adapt(self, signal: RateSignal) -> None:
        self._settle()  # accrue at the old rate up to now before anything changes
        if signal.capacity is not None and signal.capacity > 0:
            self.capacity = signal.capacity
        if signal.restore_per_s is not None and signal.restore_per_s > 0:
            self.rate = signal.restore_per_s
        if signal.remaining is not None:
            # The server's count wins over our estimate. Calls of ours still in flight are
            # not in it yet; the next response corrects that, and a THROTTLED answer costs
            # no more than one retry.
            self._level = signal.remaining
        elif signal.throttled:
            self._level = min(self._level, 0.0)  # refused: the server's bucket is empty
        self._level = min(self._level, self.capacity)
        if signal.retry_after is not None:
            until = self._timer.monotonic() + signal.retry_after
            self._paused_until = max(self._paused_until, until)

    def _settle(self) -> None:
        self._level = self.level()
        self._at = self._timer.monotonic()


class _BucketLimiter:
    def __init__(self, capacity: float, rate: float, timer: Timer) -> None:
        self._bucket = _Bucket(capacity, rate, timer)

    @asynccontextmanager
    async def slot(self, cost: float = 1.0) -> AsyncIterator[None]:
        await self._bucket.take(cost)
        yield

    def observe(self, signal: RateSignal) -> None:
        self._bucket.adapt(signal)
        if signal.throttled:
            logger.debug("throttled; bucket level now %.1f", self._bucket.level())

    def delay(self, cost: float = 1.0) -> float:
        return self._bucket.delay(cost)

    @property
    def available(self) -> float:
        """The current estimate of units in the bucket (negative: in debt)."""
        return self._bucket.level()


class CostBucketLimiter(_BucketLimiter):
    """Shopify GraphQL: a leaky bucket of query-cost points restored per second.

    `slot(cost)` takes the query's *requested* cost, which the bucket must hold before
    the query runs. `observe(remaining=currentlyAvailable)` resyncs the estimate, which
    also refunds the difference between requested and actual cost. A THROTTLED answer
    carries currentlyAvailable, so the retry waits until its cost is restored."""

    def __init__(self, capacity: float, restore_per_s: float, timer: Timer) -> None:
        super().__init__(capacity, restore_per_s, timer)


class TokenBucketLimiter(_BucketLimiter):
    """Amazon SP-API: a token bucket of `burst` tokens refilled at `per_s` (one per call).

    x-amzn-RateLimit-Limit arrives as `restore_per_s` and replaces the rate. A 429 drains
    the bucket, so the retry waits for one token to refill, or for Retry-After if given."""

    def __init__(self, per_s: float, burst: float, timer: Timer) -> None:
        super().__init__(burst, per_s, timer)


class DailyQuotaLimiter:
    """eBay: `calls` per fixed window (a day by default) that starts when this is built.

    Spreading rule: while at least `spread_below` x capacity calls would remain after a
    call, it goes at once. Below that, a call costing c waits until
        last_call + (window_end - last_call) x c / remaining,
    sharing the time left after the previous call evenly among the calls still allowed,
    so a low quota lasts until the reset instead of running dry hours before it. With
    fewer than c calls left, the call waits for the reset. `observe` resyncs remaining,
    capacity and (with `reset_in`) the window's end to what the server reported."""

    def __init__(
        self,
        calls: int,
        timer: Timer,
        *,
        window: float = 86_400.0,
        spread_below: float = 0.1,
    ) -> None:
        if calls < 1 or window <= 0 or not 0 <= spread_below <= 1:
            raise ValueError("need calls >= 1, window > 0 and 0 <= spread_below <= 1")
        self._timer = timer
        self._capacity = float(calls)
        self._remaining = float(calls)
        self._window = window
        self._spread_below = spread_below
        self._ends_at = timer.monotonic() + window
        self._last: float | None = None  # the last call in this window
        self._paused_until = _NEVER
        self._queue = asyncio.Lock()

    @asynccontextmanager
    async def slot(self, cost: float = 1.0) -> AsyncIterator[None]:
        async with self._queue:
            while (wait := self.delay(cost)) > 0:
                await self._timer.sleep(max(wait, _MIN_SLEEP))
            self._remaining -= cost
            self._last = self._timer.monotonic()
        yield

    def observe(self, signal: RateSignal) -> None:
        now = self._timer.monotonic()
        self._roll(now)
        if signal.capacity is not None and signal.capacity > 0:
            self._capacity = signal.capacity
        if signal.remaining is not None:
            self._remaining = signal.remaining
        elif signal.throttled:
            self._remaining = 0.0  # refused for quota: none left, whatever we counted
        self._remaining = min(self._remaining, self._capacity)
        if signal.reset_in is not None:
            self._ends_at = now + signal.reset_in
        if signal.retry_after is not None:
            self._paused_until = max(self._paused_until, now + signal.retry_after)

    def delay(self, cost: float = 1.0) -> float:
        now = self._timer.monotonic()
        self._roll(now)
        paused = self._paused_until - now
        if self._remaining < cost:
            return max(self._ends_at - now, paused)
        return max(self._spread_wait(now, cost), paused, 0.0)

    @property
    def remaining(self) -> float:
        self._roll(self._timer.monotonic())
        return self._remaining

    def _spread_wait(self, now: float, cost: float) -> float:
        plenty = self._remaining - cost >= self._spread_below * self._capacity
        if plenty or self._last is None:
            return 0.0
        share = (self._ends_at - self._last) * cost / self._remaining
        return self._last + share - now

    def _roll(self, now: float) -> None:
        """Start a fresh window (full quota) once the current one has ended."""
        if now < self._ends_at:
            return
        periods = math.floor((now - self._ends_at) / self._window) + 1
        self._ends_at += periods * self._window
        self._remaining = self._capacity
        self._last = None


class ServerPacedLimiter:
    """WooCommerce: no published limit; cap concurrent requests and obey the site.

    Retry-After pauses every new slot until then. A throttle (429/503) halves the allowed
    concurrency (never below 1), once per episode: further throttles within `episode`
    seconds (or the Retry-After, if longer) come from requests already in flight and do
    not halve again. Recovery is additive: +1 after `allowed` slots in a row completed
    without raising and without any throttle reported while they ran, up to
    `max_in_flight`. The `cost` of a slot is ignored: every request counts as one."""

    def __init__(self, max_in_flight: int, timer: Timer, *, episode: float = 1.0) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
        self._timer = timer
        self._max = max_in_flight
        self._allowed = max_in_flight
        self._in_flight = 0
        self._successes = 0
        self._throttles = 0
        self._episode = episode
        self._calm_at = _NEVER  # throttles before this belong to the last halving
        self._paused_until = _NEVER
        self._queue = asyncio.Lock()  # FIFO: only the head waiter watches for a free slot
        self._freed = asyncio.Event()

    @property
    def allowed(self) -> int:
        """How many requests may be in flight now."""
        return self._allowed

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @asynccontextmanager
    async def slot(self, cost: float = 1.0) -> AsyncIterator[None]:
        await self._enter()
        throttles_before = self._throttles
        completed = False
        try:
            yield
            completed = True
        finally:
            self._leave(succeeded=completed and self._throttles == throttles_before)

    def observe(self, signal: RateSignal) -> None:
        now = self._timer.monotonic()
        if signal.retry_after is not None:
            self._paused_until = max(self._paused_until, now + signal.retry_after)
        if signal.throttled:
            self._throttles += 1
            self._successes = 0
            if now >= self._calm_at:
                self._allowed = max(1, self._allowed // 2)
                self._calm_at = now + max(self._episode, signal.retry_after or 0.0)
                logger.info("throttled; concurrency lowered to %d", self._allowed)

    def delay(self, cost: float = 1.0) -> float:
        """The pause left; a full house frees on completion, at no time known in advance."""
        return max(self._paused_until - self._timer.monotonic(), 0.0)

    async def _enter(self) -> None:
        async with self._queue:
            while True:
                if (pause := self.delay()) > 0:
                    await self._timer.sleep(pause)
                elif self._in_flight < self._allowed:
                    break
                else:
                    self._freed.clear()
                    await self._freed.wait()
            self._in_flight += 1

    def _leave(self, *, succeeded: bool) -> None:
        self._in_flight -= 1
        if succeeded:
            self._successes += 1
            if self._successes >= self._allowed:
                self._successes = 0
                self._allowed = min(self._max, self._allowed + 1)
        self._freed.set()


def limiter_for(model: RateModel, timer: Timer) -> RateLimiter:
    """The limiter that enforces `model` (from the adapter's Capabilities.rate)."""
    match model:
        case CostBucket():
            return CostBucketLimiter(model.capacity, model.restore_per_s, timer)
        case RateBurst():
            return TokenBucketLimiter(model.per_s, model.burst, timer)
        case DailyQuota():
            return DailyQuotaLimiter(model.calls, timer)
        case ServerPaced():
            return ServerPacedLimiter(model.max_in_flight, timer)
        case _:
            assert_never(model)
