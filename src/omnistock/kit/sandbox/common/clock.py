"""Platform time for sandboxes: a clock that may run faster than the wall clock.

time_scale=60 makes one platform minute pass per real second: hour-long policies run in seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

# 2026-01-01T00:00:00Z: a fixed, recognisable start for manual clocks.
DEFAULT_EPOCH = 1_767_225_600.0


class SandboxClock(Protocol):
    """Platform time as seen by a sandbox."""

    def now(self) -> float:
        """Platform time in Unix seconds; never decreases."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of platform time."""
        ...


class ScaledClock:
    """Wall time sped up by `time_scale`, anchored at the real time of construction."""

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self._origin = wall()
        self._monotonic = monotonic
        self._mono_origin = monotonic()

    def now(self) -> float:
        return self._origin + (self._monotonic() - self._mono_origin) * self.time_scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.time_scale)


class ManualClock:
    """A clock that moves only when told to; `sleep` advances it instead of waiting."""

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        # Yield so that a loop which only sleeps still lets other tasks run.
        await asyncio.sleep(0)


class SandboxTimer:
    """A Timer over the sandbox's manual clock: the adapter's sleeps move platform time.

    It counts from its creation, not from the clock's Unix epoch: at 1.7e9 s a float
    cannot hold the sub-microsecond refills the limiter computes, and its wait loop
    would never see a shortfall that small go away."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._origin = clock.now()
        self._now = 0.0  # also counts sleeps too short to move a 1.7e9 float

    def monotonic(self) -> float:
        self._now = max(self._now, self._clock.now() - self._origin)
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now = self.monotonic() + max(seconds, 0.0)
        await self._clock.sleep(seconds)
