"""A circuit breaker per channel account: stop calling a platform that keeps failing.

A pure state machine over a Timer: closed → open → half-open (one probe) → closed or open."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from omnistock.clock import Timer

_NEVER = -math.inf


class CircuitState(StrEnum):
    CLOSED = "closed"  # calls go through; consecutive failures are counted
    OPEN = "open"  # no calls until the cool-down has passed
    HALF_OPEN = "half_open"  # one probe call at a time decides


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitSettings:
    failure_threshold: int = 5  # consecutive failed calls that open the circuit
    cool_down: float = 30.0  # seconds open before the first probe
    max_cool_down: float = 600.0  # a failed probe doubles the cool-down up to this

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.cool_down <= 0:
            raise ValueError("failure_threshold must be >= 1 and cool_down > 0")


class CircuitBreaker:
    """Whether the dispatcher may call the account's platform now.

    `allow()` claims the probe when half-open, so callers ask it right before each call
    and report the call's fate with `record_success` or `record_failure`."""

    def __init__(self, timer: Timer, settings: CircuitSettings | None = None) -> None:
        self._timer = timer
        self._settings = settings or CircuitSettings()
        self._failures = 0
        self._cool_down = self._settings.cool_down
        self._opened_at = _NEVER
        self._open = False
        self._probe_at = _NEVER  # when the current probe was let through

    @property
    def state(self) -> CircuitState:
        if not self._open:
            return CircuitState.CLOSED
        if self._timer.monotonic() < self._opened_at + self._cool_down:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go now; when half-open, the first caller becomes the probe."""
        if self.retry_in() > 0:
            return False
        if self._open:
            self._probe_at = self._timer.monotonic()
        return True

    def retry_in(self) -> float:
        """Seconds until `allow()` could say yes (0: now)."""
        if not self._open:
            return 0.0
        now = self._timer.monotonic()
        # A probe whose outcome never came (its call was cancelled) must not wedge the
        # account: after one more cool-down another probe may go.
        ready = max(self._opened_at, self._probe_at) + self._cool_down
        return max(ready - now, 0.0)

    def record_success(self) -> None:
        """The platform answered: close the circuit and forget past failures."""
        self._failures = 0
        self._open = False
        self._cool_down = self._settings.cool_down
        self._probe_at = _NEVER

    def record_failure(self) -> None:
        """A whole call failed; enough of them in a row, or a failed probe, open the circuit."""
        if self._open or self._failures + 1 >= self._settings.failure_threshold:
            self.trip()
        else:
            self._failures += 1

    def trip(self) -> None:
        """Open at once (credentials refused: every call would fail the same way); a
        failed probe doubles the cool-down."""
        self._failures += 1
        if self._open:
            self._cool_down = min(self._cool_down * 2, self._settings.max_cool_down)
        self._reopen()

    def _reopen(self) -> None:
        self._open = True
        self._opened_at = self._timer.monotonic()
        self._probe_at = _NEVER
