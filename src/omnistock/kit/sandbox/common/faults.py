"""Fault injection: what the sandbox does to a request or webhook instead of behaving.

Settings are data (JSON at `/_sandbox/faults`); `decide` is pure, so schedules are unit-tested.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from omnistock.kit.sandbox.common.clock import SandboxClock

Rate = float  # a probability in [0, 1]


class Window(BaseModel):
    """A span of platform time, relative to when the settings were applied."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    duration_s: float = Field(gt=0)
    start_in_s: float = Field(default=0.0, ge=0)
    retry_after_s: float | None = Field(default=1.0, ge=0)
    # "reset" aborts the response after its headers, which a client sees as a broken connection.
    mode: Literal["status", "reset"] = "status"


class FaultSettings(BaseModel):
    """Everything that can go wrong, as one JSON document. Times are platform seconds,
    except latency and hangs, which model the network and the client's timeout (real time)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    latency_ms: float = Field(default=0.0, ge=0)
    jitter_ms: float = Field(default=0.0, ge=0)
    error_rates: dict[int, Rate] = Field(default_factory=dict)
    error_retry_after_s: float | None = Field(default=None, ge=0)
    storm_429: Window | None = None
    outage: Window | None = None
    timeout_rate: Rate = Field(default=0.0, ge=0, le=1)
    hang_s: float = Field(default=30.0, ge=0)
    max_in_flight: int | None = Field(default=None, ge=1)
    capacity_status: Literal[429, 503] = 503
    capacity_retry_after_s: float = Field(default=1.0, ge=0)
    webhook_drop_rate: Rate = Field(default=0.0, ge=0, le=1)
    webhook_duplicate_rate: Rate = Field(default=0.0, ge=0, le=1)
    webhook_delay_rate: Rate = Field(default=0.0, ge=0, le=1)
    webhook_delay_s: float = Field(default=5.0, ge=0)
    webhook_reorder_rate: Rate = Field(default=0.0, ge=0, le=1)


class Action(StrEnum):
    PROCEED = "proceed"
    FAIL = "fail"
    HANG = "hang"
    RESET = "reset"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What to do with one request: `delay_s` is real latency added before anything else."""

    action: Action
    status: int = 200
    retry_after_s: float | None = None
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Rolls:
    """The random draws one decision needs, each uniform in [0, 1)."""

    error: float
    timeout: float
    jitter: float


PROCEED = Verdict(action=Action.PROCEED)


def window_active(window: Window | None, applied_at: float, now: float) -> bool:
    if window is None:
        return False
    start = applied_at + window.start_in_s
    return start <= now < start + window.duration_s


def decide(settings: FaultSettings, applied_at: float, now: float, rolls: Rolls) -> Verdict:
    """Pure: the verdict for a request at platform time `now`. Outage beats storm beats
    timeouts beats random errors, because a host that is down answers nothing else."""
    delay = (settings.latency_ms + settings.jitter_ms * (2 * rolls.jitter - 1)) / 1000
    verdict = _window_verdict(settings, applied_at, now) or _roll_verdict(settings, rolls)
    return Verdict(
        action=verdict.action,
        status=verdict.status,
        retry_after_s=verdict.retry_after_s,
        delay_s=max(delay, 0.0),
    )


def _window_verdict(settings: FaultSettings, applied_at: float, now: float) -> Verdict | None:
    outage = settings.outage
    if outage is not None and window_active(outage, applied_at, now):
        action = Action.RESET if outage.mode == "reset" else Action.FAIL
        return Verdict(action=action, status=503, retry_after_s=outage.retry_after_s)
    storm = settings.storm_429
    if storm is not None and window_active(storm, applied_at, now):
        return Verdict(action=Action.FAIL, status=429, retry_after_s=storm.retry_after_s)
    return None


def _roll_verdict(settings: FaultSettings, rolls: Rolls) -> Verdict:
    if rolls.timeout < settings.timeout_rate:
        return Verdict(action=Action.HANG)
    threshold = 0.0
    for status, rate in sorted(settings.error_rates.items()):
        threshold += rate
        if rolls.error < threshold:
            return Verdict(
                action=Action.FAIL, status=status, retry_after_s=settings.error_retry_after_s
            )
    return PROCEED


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookFate:
    """What happens to one outbound webhook."""

    drop: bool = False
    duplicate: bool = False
    delay: bool = False
    reorder: bool = False


class FaultInjector:
    """Current settings, when they were applied, one-shot responses and the seeded RNG."""

    def __init__(self, clock: SandboxClock, settings: FaultSettings, *, seed: int) -> None:
        self._clock = clock
        self._rng = random.Random(seed)
        self._one_shots: deque[Verdict] = deque()
        self.settings = settings
        self.applied_at = clock.now()

    def apply(self, settings: FaultSettings) -> None:
        """Replace the settings; their windows start counting from now."""
        self.settings = settings
        self.applied_at = self._clock.now()

    def next_response(self, *, status: int, retry_after_s: float | None = None) -> None:
        """Answer the next API request with `status` (and Retry-After), once."""
        self._one_shots.append(
            Verdict(action=Action.FAIL, status=status, retry_after_s=retry_after_s)
        )

    def verdict(self) -> Verdict:
        if self._one_shots:
            return self._one_shots.popleft()
        rolls = Rolls(
            error=self._rng.random(), timeout=self._rng.random(), jitter=self._rng.random()
        )
        return decide(self.settings, self.applied_at, self._clock.now(), rolls)

    def webhook_fate(self) -> WebhookFate:
        s, roll = self.settings, self._rng.random
        return WebhookFate(
            drop=roll() < s.webhook_drop_rate,
            duplicate=roll() < s.webhook_duplicate_rate,
            delay=roll() < s.webhook_delay_rate,
            reorder=roll() < s.webhook_reorder_rate,
        )

    def to_json(self) -> dict[str, object]:
        return {"settings": self.settings.model_dump(mode="json"), "applied_at": self.applied_at}
