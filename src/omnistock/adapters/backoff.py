"""Exponential backoff with full jitter, and a retry loop for transient channel errors.

The platform's Retry-After is a floor under the jittered delay; time goes through a Timer."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from omnistock.clock import Timer
from omnistock.domain.errors import TransientError

T = TypeVar("T")

logger = logging.getLogger(__name__)


def full_jitter(attempt: int, *, base: float = 0.5, cap: float = 60.0, rng: random.Random) -> float:
    """A delay drawn uniformly from [0, min(cap, base * 2**attempt)]; `attempt` counts from 0.

    Full jitter (rather than equal or no jitter) spreads retries of many clients that
    failed together, so they do not hit a recovering platform in lockstep."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    return rng.uniform(0.0, _ceiling(attempt, base, cap))


def _ceiling(attempt: int, base: float, cap: float) -> float:
    try:
        return min(cap, math.ldexp(base, attempt))
    except OverflowError:  # 2**attempt beyond float range: the cap has long been reached
        return cap


def next_delay(
    attempt: int,
    error: TransientError,
    *,
    base: float = 0.5,
    cap: float = 60.0,
    rng: random.Random,
) -> float:
    """The jittered delay, but never shorter than what the platform asked for."""
    return max(error.retry_after or 0.0, full_jitter(attempt, base=base, cap=cap, rng=rng))


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    timer: Timer,
    rng: random.Random,
    base: float = 0.5,
    cap: float = 60.0,
) -> T:
    """Await `call()` up to `attempts` times in all, sleeping `next_delay` between tries.

    Retries TransientError (RateLimitedError included); anything else propagates at once.
    When the tries run out, the last TransientError is re-raised."""
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    for attempt in range(attempts):
        try:
            return await call()
        except TransientError as error:
            if attempt + 1 == attempts:
                raise
            delay = next_delay(attempt, error, base=base, cap=cap, rng=rng)
            logger.info("retry %d/%d in %.3fs: %s", attempt + 1, attempts - 1, delay, error)
            await timer.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")
