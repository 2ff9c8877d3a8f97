"""Backoff delays stay within their bounds and honour Retry-After; retries stop when they
should. A ManualTimer records every sleep, so schedules are asserted exactly."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.adapters.backoff import full_jitter, next_delay, retry_transient
from omnistock.clock import ManualTimer
from omnistock.domain.errors import PermanentError, RateLimitedError, TransientError

bases = st.floats(min_value=0.001, max_value=10.0)
caps = st.floats(min_value=0.0, max_value=600.0)
attempts = st.integers(min_value=0, max_value=5_000)


@given(attempt=attempts, base=bases, cap=caps, seed=st.integers())
def test_full_jitter_stays_between_zero_and_the_capped_exponential(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    delay = full_jitter(attempt, base=base, cap=cap, rng=random.Random(seed))
    ceiling = cap if attempt > 1000 else min(cap, base * 2**attempt)
    assert 0.0 <= delay <= ceiling


@given(
    attempt=attempts,
    retry_after=st.floats(min_value=0.0, max_value=3_600.0),
    seed=st.integers(),
)
def test_next_delay_never_undercuts_retry_after(
    attempt: int, retry_after: float, seed: int
) -> None:
    error = RateLimitedError("slow down", account="a", retry_after=retry_after)
    delay = next_delay(attempt, error, rng=random.Random(seed))
    assert retry_after <= delay <= max(retry_after, 60.0)


def test_full_jitter_draws_uniformly_below_the_ceiling() -> None:
    # uniform(0, x) with a seeded rng is reproducible: same seed, same draw.
    expected = random.Random(7).uniform(0.0, 4.0)
    assert full_jitter(3, base=0.5, cap=60.0, rng=random.Random(7)) == expected


def test_full_jitter_is_capped() -> None:
    draws = [full_jitter(40, base=0.5, cap=2.0, rng=random.Random(s)) for s in range(200)]
    assert max(draws) <= 2.0
    assert max(draws) > 1.9  # the whole range is used, not just the bottom


def test_full_jitter_rejects_negative_attempts() -> None:
    with pytest.raises(ValueError, match="attempt"):
        full_jitter(-1, rng=random.Random(0))


def test_next_delay_uses_jitter_when_the_platform_said_nothing() -> None:
    error = TransientError("reset", account="a")
    assert next_delay(2, error, rng=random.Random(3)) == random.Random(3).uniform(0.0, 2.0)


class Flaky:
    """Fails with the given errors in turn, then returns 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_retry_returns_after_transient_failures_with_the_exact_schedule() -> None:
    timer = ManualTimer()
    call = Flaky(TransientError("t", account="a"), RateLimitedError("r", account="a"))
    result = await retry_transient(call, attempts=3, timer=timer, rng=random.Random(1))
    assert result == "ok"
    assert call.calls == 3
    rng = random.Random(1)
    assert timer.slept == [rng.uniform(0.0, 0.5), rng.uniform(0.0, 1.0)]


async def test_retry_sleeps_at_least_retry_after() -> None:
    timer = ManualTimer()
    call = Flaky(RateLimitedError("r", account="a", retry_after=30.0))
    assert await retry_transient(call, attempts=2, timer=timer, rng=random.Random(1)) == "ok"
    assert timer.slept == [30.0]


async def test_retry_gives_up_after_attempts_and_reraises_the_last_error() -> None:
    timer = ManualTimer()
    errors = [TransientError(f"t{i}", account="a") for i in range(4)]
    call = Flaky(*errors)
    with pytest.raises(TransientError) as caught:
        await retry_transient(call, attempts=3, timer=timer, rng=random.Random(1))
    assert caught.value is errors[2]
    assert call.calls == 3
    assert len(timer.slept) == 2  # no sleep after the last try


async def test_retry_stops_at_once_on_a_permanent_error() -> None:
    timer = ManualTimer()
    call = Flaky(TransientError("t", account="a"), PermanentError("no", account="a"))
    with pytest.raises(PermanentError):
        await retry_transient(call, attempts=5, timer=timer, rng=random.Random(1))
    assert call.calls == 2
    assert len(timer.slept) == 1


async def test_retry_does_not_catch_other_exceptions() -> None:
    call = Flaky(KeyError("bug"))
    with pytest.raises(KeyError):
        await retry_transient(call, attempts=5, timer=ManualTimer(), rng=random.Random(1))
    assert call.calls == 1


async def test_retry_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts"):
        await retry_transient(Flaky(), attempts=0, timer=ManualTimer(), rng=random.Random(1))
