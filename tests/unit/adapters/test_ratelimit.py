"""The four limiters: exact waits under a ManualTimer, adaptation to reported rate state,
quota spreading, AIMD concurrency, and first-come-first-served slots across tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from omnistock.adapters.base import CostBucket, DailyQuota, RateBurst, ServerPaced
from omnistock.adapters.ratelimit import (
    CostBucketLimiter,
    DailyQuotaLimiter,
    RateLimiter,
    RateSignal,
    ServerPacedLimiter,
    TokenBucketLimiter,
    limiter_for,
)
from omnistock.clock import ManualTimer


async def entry_times(
    limiter: RateLimiter, timer: ManualTimer, costs: Sequence[float]
) -> list[tuple[int, float]]:
    """Run one task per cost, started in order; (task index, time it got its slot)."""
    entered: list[tuple[int, float]] = []

    async def use(index: int, cost: float) -> None:
        async with limiter.slot(cost):
            entered.append((index, timer.monotonic()))

    async with asyncio.TaskGroup() as group:
        for index, cost in enumerate(costs):
            group.create_task(use(index, cost))
    return entered


async def spend(limiter: RateLimiter, cost: float = 1.0, times: int = 1) -> None:
    for _ in range(times):
        async with limiter.slot(cost):
            pass


# --- CostBucketLimiter (Shopify) ---------------------------------------------------------


async def test_cost_bucket_spends_at_once_while_points_last() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(100, 10, timer)
    await spend(limiter, 60)
    await spend(limiter, 40)
    assert timer.slept == []
    assert limiter.available == 0


async def test_cost_bucket_waits_exactly_for_the_shortfall_to_restore() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(100, 10, timer)
    await spend(limiter, 100)
    assert limiter.delay(50) == 5.0
    assert limiter.delay(50) == 5.0  # delay() spends nothing
    await spend(limiter, 50)
    assert timer.slept == [5.0]
    assert timer.monotonic() == 5.0


async def test_cost_bucket_refills_over_time_up_to_capacity() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(100, 10, timer)
    await spend(limiter, 100)
    timer.advance(3)
    assert limiter.available == 30
    timer.advance(60)
    assert limiter.available == 100


async def test_cost_bucket_resyncs_to_currently_available() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(1000, 50, timer)
    await spend(limiter, 100)  # requested 100; the query actually cost 20
    limiter.observe(RateSignal(remaining=980))
    assert limiter.available == 980
    assert limiter.delay(990) == 0.2


async def test_cost_bucket_throttled_waits_until_the_requested_cost_is_restored() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(1000, 50, timer)
    limiter.observe(RateSignal(throttled=True, remaining=50, capacity=1000, restore_per_s=50))
    await spend(limiter, 752)
    assert timer.slept == [14.04]  # (752 - 50) / 50


async def test_cost_bucket_throttled_without_state_drains_the_estimate() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(1000, 50, timer)
    limiter.observe(RateSignal(throttled=True))
    assert limiter.delay(100) == 2.0


async def test_cost_bucket_adopts_reported_capacity_and_restore_rate() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(1000, 50, timer)
    limiter.observe(RateSignal(capacity=40, restore_per_s=2))  # a development store
    assert limiter.available == 40
    await spend(limiter, 40)
    assert limiter.delay(10) == 5.0


async def test_cost_bucket_accrues_at_the_old_rate_before_a_rate_change() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(100, 10, timer)
    await spend(limiter, 100)
    timer.advance(2)
    limiter.observe(RateSignal(restore_per_s=5))
    timer.advance(2)
    assert limiter.available == 30  # 2 s at 10/s, then 2 s at 5/s


async def test_cost_bucket_retry_after_pauses_even_a_full_bucket() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(100, 10, timer)
    limiter.observe(RateSignal(retry_after=3.0))
    assert limiter.delay(1) == 3.0
    await spend(limiter, 1)
    assert timer.slept == [3.0]


async def test_cost_bucket_over_capacity_waits_for_a_full_bucket_then_owes() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(10, 1, timer)
    await spend(limiter, 10)
    assert limiter.delay(15) == 10.0
    await spend(limiter, 15)
    assert limiter.available == -5
    assert limiter.delay(1) == 6.0


async def test_cost_bucket_serves_waiters_in_order_so_big_costs_are_not_starved() -> None:
    timer = ManualTimer()
    limiter = CostBucketLimiter(10, 1, timer)
    await spend(limiter, 10)
    assert await entry_times(limiter, timer, [10, 1, 1]) == [(0, 10.0), (1, 11.0), (2, 12.0)]
    assert timer.slept == [10.0, 1.0, 1.0]


# --- TokenBucketLimiter (Amazon) ---------------------------------------------------------


async def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    timer = ManualTimer()
    limiter = TokenBucketLimiter(2, 3, timer)
    times = await entry_times(limiter, timer, [1] * 6)
    assert [t for _, t in times] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


async def test_token_bucket_takes_the_rate_from_x_amzn_ratelimit_limit() -> None:
    timer = ManualTimer()
    limiter = TokenBucketLimiter(5, 5, timer)
    await spend(limiter, times=5)
    limiter.observe(RateSignal(restore_per_s=0.5))
    assert limiter.delay() == 2.0


async def test_token_bucket_429_drains_and_respects_retry_after() -> None:
    timer = ManualTimer()
    limiter = TokenBucketLimiter(5, 10, timer)
    limiter.observe(RateSignal(throttled=True))
    assert limiter.available == 0
    assert limiter.delay() == 0.2
    limiter.observe(RateSignal(throttled=True, retry_after=4.0))
    await spend(limiter)
    assert timer.slept == [4.0]


# --- DailyQuotaLimiter (eBay) ------------------------------------------------------------


async def test_quota_goes_at_once_while_plenty_then_spreads_evenly() -> None:
    timer = ManualTimer()
    limiter = DailyQuotaLimiter(100, timer, window=1000.0, spread_below=0.1)
    await spend(limiter, times=90)  # 10 left: the reserve
    assert timer.slept == []
    await spend(limiter, times=9)
    # 1000 s left after the last call, shared by the 10 calls still allowed.
    assert timer.slept == [100.0] * 9
    assert limiter.remaining == 1


async def test_quota_last_call_of_the_window_lands_on_the_reset() -> None:
    timer = ManualTimer()
    limiter = DailyQuotaLimiter(10, timer, window=100.0, spread_below=1.0)
    await spend(limiter)  # all calls are spread; the first goes at once
    assert limiter.delay() == 100 / 9
    limiter.observe(RateSignal(remaining=1))
    assert limiter.delay() == 100.0
    await spend(limiter)
    assert timer.monotonic() == 100.0
    assert limiter.remaining == 9  # the window rolled: a fresh quota minus this call


async def test_quota_exhausted_waits_for_the_window_to_reset() -> None:
    timer = ManualTimer()
    limiter = DailyQuotaLimiter(3, timer, window=1000.0, spread_below=0.0)
    await spend(limiter, times=3)
    timer.advance(400)
    assert limiter.delay() == 600.0
    await spend(limiter)
    assert timer.slept == [600.0]
    assert limiter.remaining == 2


async def test_quota_windows_roll_on_fixed_boundaries() -> None:
    timer = ManualTimer()
    limiter = DailyQuotaLimiter(1, timer, window=100.0, spread_below=0.0)
    await spend(limiter)
    timer.advance(250)
    assert limiter.delay() == 0.0
    await spend(limiter)
    assert limiter.delay() == 50.0  # the third window ends at 300


async def test_quota_resyncs_to_what_the_server_reports() -> None:
    timer = ManualTimer()
    limiter = DailyQuotaLimiter(5_000, timer, spread_below=0.1)
    limiter.observe(RateSignal(remaining=5, capacity=50, reset_in=100.0))
    assert limiter.remaining == 5
    await spend(limiter)  # 4 left is below 10% of 50: spread from here
    assert limiter.delay() == 25.0


async def test_quota_refused_without_state_waits_for_the_reset() -> None:
    timer = ManualTimer()
    limiter = DailyQuotaLimiter(100, timer, window=1000.0)
    timer.advance(300)
    limiter.observe(RateSignal(throttled=True))
    assert limiter.delay() == 700.0


async def test_quota_spreading_holds_across_concurrent_tasks() -> None:
    timer = ManualTimer()
    limiter = DailyQuotaLimiter(5, timer, window=40.0, spread_below=1.0)
    times = await entry_times(limiter, timer, [1] * 3)
    assert times == [(0, 0.0), (1, 10.0), (2, 20.0)]


# --- ServerPacedLimiter (WooCommerce) ----------------------------------------------------


class Holder:
    """Tasks that take a slot and hold it until released one by one."""

    def __init__(self, limiter: ServerPacedLimiter) -> None:
        self.limiter = limiter
        self.release = asyncio.Semaphore(0)
        self.entered = 0

    async def hold(self) -> None:
        async with self.limiter.slot():
            self.entered += 1
            await self.release.acquire()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_server_paced_caps_requests_in_flight() -> None:
    limiter = ServerPacedLimiter(2, ManualTimer())
    holder = Holder(limiter)
    async with asyncio.TaskGroup() as group:
        for _ in range(3):
            group.create_task(holder.hold())
        await settle()
        assert (holder.entered, limiter.in_flight) == (2, 2)
        holder.release.release()
        await settle()
        assert (holder.entered, limiter.in_flight) == (3, 2)
        for _ in range(2):
            holder.release.release()
    assert limiter.in_flight == 0


async def test_server_paced_retry_after_pauses_every_new_slot() -> None:
    timer = ManualTimer()
    limiter = ServerPacedLimiter(4, timer)
    limiter.observe(RateSignal(retry_after=5.0, throttled=True))
    assert limiter.delay() == 5.0
    times = await entry_times(limiter, timer, [1, 1])
    assert times == [(0, 5.0), (1, 5.0)]
    assert timer.slept == [5.0]


async def test_server_paced_halves_once_per_episode_and_recovers_additively() -> None:
    timer = ManualTimer()
    limiter = ServerPacedLimiter(8, timer, episode=1.0)
    limiter.observe(RateSignal(throttled=True))
    limiter.observe(RateSignal(throttled=True))  # same episode: a request already in flight
    assert limiter.allowed == 4
    timer.advance(1.0)
    limiter.observe(RateSignal(throttled=True))
    assert limiter.allowed == 2
    allowed = []
    for _ in range(2 + 3 + 4 + 5 + 6 + 7 + 10):
        await spend(limiter)
        allowed.append(limiter.allowed)
    assert allowed[:2] == [2, 3]  # +1 after `allowed` successes in a row
    assert allowed.count(3) == 3
    assert allowed.count(4) == 4
    assert allowed[-1] == 8  # never above max_in_flight


async def test_server_paced_never_drops_below_one() -> None:
    timer = ManualTimer()
    limiter = ServerPacedLimiter(2, timer, episode=1.0)
    for _ in range(4):
        limiter.observe(RateSignal(throttled=True))
        timer.advance(1.0)
    assert limiter.allowed == 1


async def test_server_paced_episode_lasts_as_long_as_retry_after() -> None:
    timer = ManualTimer()
    limiter = ServerPacedLimiter(8, timer, episode=1.0)
    limiter.observe(RateSignal(throttled=True, retry_after=10.0))
    timer.advance(9.5)
    limiter.observe(RateSignal(throttled=True))
    assert limiter.allowed == 4
    timer.advance(0.5)
    limiter.observe(RateSignal(throttled=True))
    assert limiter.allowed == 2


async def test_server_paced_failed_or_throttled_slots_do_not_count_as_successes() -> None:
    timer = ManualTimer()
    limiter = ServerPacedLimiter(4, timer)
    limiter.observe(RateSignal(throttled=True))  # allowed 2
    with pytest.raises(RuntimeError):
        async with limiter.slot():
            raise RuntimeError("boom")
    timer.advance(5.0)  # a new episode, so the next throttle would halve again
    async with limiter.slot():
        limiter.observe(RateSignal())  # an ordinary answer changes nothing
    assert limiter.allowed == 2  # one success so far: the failed slot did not count
    async with limiter.slot():
        limiter.observe(RateSignal(throttled=True))  # halves to 1
    assert limiter.allowed == 1
    await spend(limiter)  # one success at allowed 1: back to 2
    assert limiter.allowed == 2


async def test_server_paced_halving_while_full_holds_new_slots_back() -> None:
    limiter = ServerPacedLimiter(4, ManualTimer())
    holder = Holder(limiter)
    async with asyncio.TaskGroup() as group:
        for _ in range(5):
            group.create_task(holder.hold())
        await settle()
        limiter.observe(RateSignal(throttled=True))  # allowed 2 with 4 in flight
        for expected_in_flight in (3, 2):
            holder.release.release()
            await settle()
            assert (holder.entered, limiter.in_flight) == (4, expected_in_flight)
        holder.release.release()
        await settle()
        assert (holder.entered, limiter.in_flight) == (5, 2)
        for _ in range(2):
            holder.release.release()


async def test_server_paced_cancelled_waiter_takes_no_slot() -> None:
    limiter = ServerPacedLimiter(1, ManualTimer())
    holder = Holder(limiter)
    async with asyncio.TaskGroup() as group:
        group.create_task(holder.hold())
        waiter = group.create_task(holder.hold())
        await settle()
        waiter.cancel()
        await settle()
        holder.release.release()
    assert (holder.entered, limiter.in_flight) == (1, 0)


# --- limiter_for -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kind", "drained_delay"),
    [
        (CostBucket(capacity=100, restore_per_s=50), CostBucketLimiter, 2.0),
        (RateBurst(per_s=4, burst=1), TokenBucketLimiter, 0.25),
        (DailyQuota(calls=1), DailyQuotaLimiter, 86_400.0),
    ],
)
async def test_limiter_for_builds_the_limiter_of_each_model(
    model: CostBucket | RateBurst | DailyQuota, kind: type, drained_delay: float
) -> None:
    limiter = limiter_for(model, ManualTimer())
    assert isinstance(limiter, kind)
    limiter.observe(RateSignal(throttled=True))
    assert limiter.delay(100 if isinstance(model, CostBucket) else 1) == drained_delay


def test_limiter_for_server_paced_uses_max_in_flight() -> None:
    limiter = limiter_for(ServerPaced(max_in_flight=6), ManualTimer())
    assert isinstance(limiter, ServerPacedLimiter)
    assert limiter.allowed == 6


async def test_a_tiny_wait_still_moves_a_clock_far_from_zero() -> None:
    timer = ManualTimer(start=1.7e9)  # floats step by ~2.4e-7 here
    limiter = CostBucketLimiter(capacity=100, restore_per_s=100.0, timer=timer)
    limiter.observe(RateSignal(remaining=99.99999))  # the server's figure, after a refund
    # Short by 1e-5 points: a 1e-7 s sleep would not move the clock, and never end.
    async with asyncio.timeout(5):
        async with limiter.slot(100):
            pass
    assert timer.slept
    assert all(s >= 1e-3 for s in timer.slept)
