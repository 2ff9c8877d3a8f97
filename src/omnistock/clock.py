"""The clock ports: what time it is, and monotonic time with sleeping, injected wherever
time is read or waited for; tests pass ones they control (ManualTimer skips time)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A wall clock for tests and simulations: it moves only when advanced."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> None:
        self._now += by


class Timer(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a ManualTimer advances its clock instead)."""
        ...


class SystemTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualTimer:
    """A timer for tests: time moves only when slept through or advanced."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._now += max(seconds, 0.0)
        await asyncio.sleep(0)  # still yield, as a real sleep would

    def advance(self, seconds: float) -> None:
        self._now += seconds


class ScaledTime:
    """Platform time running `scale` times faster than the wall clock, as a Clock and a
    Timer: benchmarks run hours of platform time (rate-limit windows, periodic syncs) in
    minutes, with the sandboxes' ScaledClock at the same scale."""

    def __init__(self, scale: float, start: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.scale = scale
        self._wall0 = time.monotonic()
        self._start = start or datetime.now(UTC)

    def monotonic(self) -> float:
        return (time.monotonic() - self._wall0) * self.scale

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.scale)


async def sleep_or_stop(timer: Timer, seconds: float, stop: asyncio.Event) -> None:
    """Sleep `seconds` on `timer`, or less if `stop` is set meanwhile."""
    await first_of(timer.sleep(seconds), stop.wait())


async def first_of(*waits: Coroutine[Any, Any, object]) -> None:
    """Wait until one of `waits` is done; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Hold:
    """Work that must not start while something is under way elsewhere (a burst being
    appended, a shop settling): held while any `hold()` block is open; the blocks nest."""

    def __init__(self) -> None:
        self._holds = 0
        self._released = asyncio.Event()
        self._released.set()

    @property
    def held(self) -> bool:
        return not self._released.is_set()

    @contextmanager
    def hold(self) -> Iterator[None]:
        self._holds += 1
        self._released.clear()
        try:
            yield
        finally:
            self._holds -= 1
            if not self._holds:
                self._released.set()

    async def released(self, stop: asyncio.Event) -> None:
        """Return once no hold is open, or `stop` is set."""
        if self.held:
            await first_of(self._released.wait(), stop.wait())
