"""Fault controls every test harness offers, in the contract suite's words (fail the next
call, a 429 storm, an error rate, timeouts, an outage, duplicated webhooks)."""

from __future__ import annotations

from omnistock.kit.sandbox.common.faults import FaultInjector, FaultSettings, Window


class HarnessFaults:
    """Mixed into a platform harness; it supplies `_faults()` and `_hang_s`."""

    _hang_s: float

    def _faults(self) -> FaultInjector:
        raise NotImplementedError

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        self._faults().next_response(status=status, retry_after_s=retry_after)

    def storm_429(self, seconds: float, retry_after: float) -> None:
        self._apply(storm_429=Window(duration_s=seconds, retry_after_s=retry_after))

    def error_rate(self, status: int, rate: float) -> None:
        self._apply(error_rates={status: rate})

    def timeouts(self, rate: float) -> None:
        self._apply(timeout_rate=rate, hang_s=self._hang_s)

    def outage(self, seconds: float) -> None:
        self._apply(outage=Window(duration_s=seconds, retry_after_s=None))

    def duplicate_webhooks(self) -> None:
        self._apply(webhook_duplicate_rate=1.0)

    def clear_faults(self) -> None:
        self._faults().apply(FaultSettings())

    def _apply(self, **settings: object) -> None:
        self._faults().apply(FaultSettings.model_validate(settings))
