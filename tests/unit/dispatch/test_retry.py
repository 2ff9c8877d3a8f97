"""Per-item outcomes and retry times: full jitter under the cap, Retry-After as a floor,
permanent failures on the long backoff, a failed call failing each of its items."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from omnistock.adapters.base import ItemResult, ItemStatus
from omnistock.dispatch.report import DispatchReport
from omnistock.dispatch.retry import Backoff, RetryPolicy
from omnistock.domain.errors import PermanentError, RateLimitedError, TransientError
from omnistock.ledger.sync_state import DueListing, PushStatus
from tests.unit.dispatch.builders import due

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base=0.5, cap=60.0, permanent=900.0)


def backoff(seed: int = 1) -> Backoff:
    return Backoff(POLICY, random.Random(seed))


@given(attempts=st.integers(0, 200), seed=st.integers())
def test_transient_delay_is_jittered_under_the_exponential_cap(attempts: int, seed: int) -> None:
    delay = backoff(seed).transient(attempts, None)
    assert 0 <= delay <= min(60.0, 0.5 * 2 ** min(attempts, 20))


@given(attempts=st.integers(0, 200), retry_after=st.floats(0, 3600), seed=st.integers())
def test_retry_after_is_a_floor(attempts: int, retry_after: float, seed: int) -> None:
    assert backoff(seed).transient(attempts, retry_after) >= retry_after


def test_delays_spread_rather_than_move_in_lockstep() -> None:
    delays = {round(backoff(seed).transient(6, None), 6) for seed in range(50)}
    assert len(delays) == 50


def test_a_half_failed_batch_fails_only_its_failed_items() -> None:
    batch = [due("ok", 3, seq=5), due("busy", 4, attempts=2), due("gone", 5)]
    results = [
        ItemResult(listing=batch[0].state.listing, status=ItemStatus.SUCCEEDED),
        ItemResult(
            listing=batch[1].state.listing,
            status=ItemStatus.FAILED_RETRYABLE,
            reason="db busy",
            retry_after=7.0,
        ),
        ItemResult(
            listing=batch[2].state.listing, status=ItemStatus.FAILED_PERMANENT, reason="no item"
        ),
    ]
    ok, busy, gone = backoff().results(batch, results, NOW)
    assert (ok.status, ok.quantity, ok.sequence, ok.retry_at) == (PushStatus.SUCCEEDED, 3, 5, None)
    assert (busy.status, busy.error) == (PushStatus.RETRYABLE, "db busy")
    assert busy.retry_at is not None
    assert timedelta(seconds=7) <= busy.retry_at - NOW <= timedelta(seconds=2.0 + 7)
    assert (gone.status, gone.error, gone.retry_at) == (
        PushStatus.PERMANENT,
        "no item",
        NOW + timedelta(seconds=900),
    )
    report = DispatchReport.of([ok, busy, gone])
    assert (report.pushed, report.succeeded, report.failed, report.calls) == (3, 1, 2, 1)


def test_a_lost_compare_and_set_is_retried_at_once_a_few_times_then_backs_off() -> None:
    def refused(name: str, attempts: int) -> tuple[DueListing, ItemResult]:
        item = due(name, 3, pushed=5, attempts=attempts)
        result = ItemResult(
            listing=item.state.listing,
            status=ItemStatus.FAILED_RETRYABLE,
            reason="the level moved",
            observed=4,
        )
        return item, result

    pairs = [refused("first", 0), refused("third", 2), refused("fourth", 3)]
    first, third, fourth = backoff().results([d for d, _ in pairs], [r for _, r in pairs], NOW)
    assert first.retry_at == third.retry_at == NOW  # with what the channel said it shows
    assert (first.status, first.error) == (PushStatus.RETRYABLE, "the level moved")
    assert fourth.retry_at is not None
    assert fourth.retry_at > NOW  # refused again and again: a backoff like any failure


def test_a_failed_call_fails_every_item_by_its_kind() -> None:
    batch = [due("a", 1), due("b", 2, attempts=30)]
    limited = RateLimitedError("slow down", account="shop", status=429, retry_after=12.0)
    outcomes = backoff().failed_call(batch, limited, NOW)
    assert {o.status for o in outcomes} == {PushStatus.RETRYABLE}
    assert all(o.retry_at and o.retry_at - NOW >= timedelta(seconds=12) for o in outcomes)
    assert len({o.retry_at for o in outcomes}) == 1  # retried together, as one batch again
    assert all(o.error and "slow down" in o.error for o in outcomes)
    [late] = backoff().failed_call(batch[1:], TransientError("5xx", account="shop"), NOW)
    assert late.retry_at is not None
    assert late.retry_at - NOW <= timedelta(seconds=60)
    [bad] = backoff().failed_call(batch[:1], PermanentError("no route", account="shop"), NOW)
    assert (bad.status, bad.retry_at) == (PushStatus.PERMANENT, NOW + timedelta(seconds=900))


def test_reports_add_up() -> None:
    one = DispatchReport(pushed=3, succeeded=2, failed=1, calls=1)
    total = one + DispatchReport(pushed=1, succeeded=1, calls=1, circuit_open=True)
    assert total == DispatchReport(pushed=4, succeeded=3, failed=1, calls=2, circuit_open=True)
