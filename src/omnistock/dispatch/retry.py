"""When a failed push is tried again: per call, from its items' attempt counts and the error.

Transient failures back off exponentially with full jitter (Retry-After as a floor);
permanent ones wait long but are never dropped: they stay dirty with their error."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from omnistock.adapters.backoff import full_jitter
from omnistock.adapters.base import ItemResult, ItemStatus
from omnistock.domain.errors import ChannelError, TransientError
from omnistock.ledger.sync_state import DueListing, PushOutcome, PushStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    base: float = 0.5  # seconds; the first retry waits up to this
    cap: float = 60.0  # the longest transient backoff
    permanent: float = 900.0  # a permanent failure is retried after this (a fix may come)
    # A write refused because the level moved (a compare-and-set lost to a sale on the
    # channel) says what the channel shows: the retry compares against that, so it goes at
    # once, for this many refusals in a row; then it backs off like any failure.
    raced_now: int = 3


class Backoff:
    """Turns push results and failed calls into outcomes with their retry times."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self._policy = policy
        self._rng = rng

    def transient(self, attempts: int, retry_after: float | None) -> float:
        """Seconds before retrying a listing that failed `attempts` times before."""
        jitter = full_jitter(attempts, base=self._policy.base, cap=self._policy.cap, rng=self._rng)
        return max(retry_after or 0.0, jitter)

    def results(
        self, batch: Sequence[DueListing], results: Sequence[ItemResult], now: datetime
    ) -> list[PushOutcome]:
        """One outcome per item of a call that answered (a batch may half-succeed)."""
        pairs = list(zip(batch, results, strict=True))
        retry = [
            (d.state.attempts, r.retry_after)
            for d, r in pairs
            if _retryable(r) and not self._raced(d, r)
        ]
        delay = self._shared(retry)
        return [
            self._result(due, result, now, 0.0 if self._raced(due, result) else delay)
            for due, result in pairs
        ]

    def failed_call(
        self, batch: Sequence[DueListing], error: ChannelError, now: datetime
    ) -> list[PushOutcome]:
        """The outcome of every item of a call that failed as a whole."""
        if isinstance(error, TransientError):
            delay = self._shared([(d.state.attempts, error.retry_after) for d in batch])
            return [self._failed(d, PushStatus.RETRYABLE, str(error), now, delay) for d in batch]
        delay = self._policy.permanent
        return [self._failed(d, PushStatus.PERMANENT, str(error), now, delay) for d in batch]

    def delayed(
        self, batch: Sequence[DueListing], error: ChannelError, now: datetime, seconds: float
    ) -> list[PushOutcome]:
        """Every item retried after `seconds` (when the circuit will let a probe through)."""
        return [self._failed(d, PushStatus.PERMANENT, str(error), now, seconds) for d in batch]

    def _raced(self, due: DueListing, result: ItemResult) -> bool:
        return (
            _retryable(result)
            and result.observed is not None
            and due.state.attempts < self._policy.raced_now
        )

    def _shared(self, failures: Sequence[tuple[int, float | None]]) -> float:
        # One delay per call: items that failed together are retried together, in one
        # batch again; the jitter still spreads this call from other accounts' retries.
        if not failures:
            return 0.0
        attempts = max(attempts for attempts, _ in failures)
        return self.transient(attempts, max(after or 0.0 for _, after in failures))

    def _result(
        self, due: DueListing, result: ItemResult, now: datetime, retry: float
    ) -> PushOutcome:
        state = due.state
        if result.status in (ItemStatus.SUCCEEDED, ItemStatus.ACCEPTED):
            return PushOutcome(
                listing=state.listing,
                quantity=state.desired_qty,
                sequence=state.desired_seq,
                status=PushStatus.SUCCEEDED,
            )
        if _retryable(result):
            return self._failed(due, PushStatus.RETRYABLE, result.reason, now, retry)
        return self._failed(due, PushStatus.PERMANENT, result.reason, now, self._policy.permanent)

    def _failed(
        self,
        due: DueListing,
        status: PushStatus,
        error: str | None,
        now: datetime,
        delay: float,
    ) -> PushOutcome:
        return PushOutcome(
            listing=due.state.listing,
            quantity=due.state.desired_qty,
            sequence=due.state.desired_seq,
            status=status,
            error=error or status.value,
            retry_at=now + timedelta(seconds=delay),
        )


def _retryable(result: ItemResult) -> bool:
    return result.status is ItemStatus.FAILED_RETRYABLE
