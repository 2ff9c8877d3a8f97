"""The pollers' adaptive interval and the webhook-health ratio, pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from omnistock.ingest.pollers import PollInterval, WebhookHealth, next_interval

POLICY = PollInterval(min_s=5, max_s=300, start_s=30, faster=0.5, slower=1.5)


def test_missed_orders_make_polling_faster_down_to_the_minimum() -> None:
    assert next_interval(POLICY, 30, found=4, missed=1) == 15
    assert next_interval(POLICY, 6, found=4, missed=4) == 5


def test_idle_polls_slow_down_up_to_the_maximum() -> None:
    assert next_interval(POLICY, 30, found=0, missed=0) == 45
    assert next_interval(POLICY, 250, found=0, missed=0) == 300


def test_a_poll_that_only_confirms_the_webhooks_keeps_the_pace() -> None:
    assert next_interval(POLICY, 30, found=7, missed=0) == 30


@given(
    current=st.floats(0.01, 10_000),
    found=st.integers(0, 100),
    missed=st.integers(0, 100),
)
def test_the_interval_always_stays_within_bounds(current: float, found: int, missed: int) -> None:
    assert 5 <= next_interval(POLICY, current, found=found, missed=missed) <= 300


def test_the_missed_ratio() -> None:
    assert WebhookHealth(found=0, missed=0).missed_ratio == 0.0
    assert WebhookHealth(found=8, missed=2).missed_ratio == 0.25
