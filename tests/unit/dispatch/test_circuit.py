"""The circuit breaker's state machine on a ManualTimer: opens after N failed calls or an
auth failure, stays shut for the cool-down, lets one probe through, and closes on success."""

from __future__ import annotations

import pytest

from omnistock.clock import ManualTimer
from omnistock.dispatch.circuit import CircuitBreaker, CircuitSettings, CircuitState

SETTINGS = CircuitSettings(failure_threshold=3, cool_down=10.0, max_cool_down=25.0)


def state_of(circuit: CircuitBreaker) -> CircuitState:
    return circuit.state  # read afresh: mypy would keep an earlier narrowing of the property


def breaker() -> tuple[CircuitBreaker, ManualTimer]:
    timer = ManualTimer()
    return CircuitBreaker(timer, SETTINGS), timer


def test_closed_allows_and_opens_after_consecutive_failures() -> None:
    circuit, _ = breaker()
    for _ in range(2):
        assert circuit.allow()
        circuit.record_failure()
    assert state_of(circuit) is CircuitState.CLOSED
    circuit.record_failure()
    assert (circuit.state, circuit.allow(), circuit.retry_in()) == (CircuitState.OPEN, False, 10.0)


def test_a_success_resets_the_count_of_failures() -> None:
    circuit, _ = breaker()
    circuit.record_failure()
    circuit.record_failure()
    circuit.record_success()
    circuit.record_failure()
    circuit.record_failure()
    assert state_of(circuit) is CircuitState.CLOSED
    assert circuit.consecutive_failures == 2


def test_trip_opens_at_once() -> None:
    circuit, _ = breaker()
    circuit.trip()
    assert state_of(circuit) is CircuitState.OPEN
    assert not circuit.allow()


def test_half_open_lets_exactly_one_probe_through_and_success_closes() -> None:
    circuit, timer = breaker()
    circuit.trip()
    timer.advance(9.9)
    assert not circuit.allow()
    timer.advance(0.1)
    assert state_of(circuit) is CircuitState.HALF_OPEN
    assert circuit.allow()  # the probe
    assert not circuit.allow()  # a second caller waits for the probe's fate
    circuit.record_success()
    assert state_of(circuit) is CircuitState.CLOSED
    assert circuit.allow()
    assert circuit.allow()


def test_a_failed_probe_reopens_with_a_doubled_capped_cool_down() -> None:
    circuit, timer = breaker()
    circuit.trip()
    timer.advance(10)
    assert circuit.allow()
    circuit.record_failure()  # one failed probe is enough, whatever the threshold
    assert (circuit.state, circuit.retry_in()) == (CircuitState.OPEN, 20.0)
    timer.advance(20)
    assert circuit.allow()
    circuit.trip()
    assert circuit.retry_in() == 25.0  # capped
    timer.advance(25)
    assert circuit.allow()
    circuit.record_success()
    circuit.trip()
    assert circuit.retry_in() == 10.0  # success forgot the longer cool-downs


def test_a_probe_that_never_reports_does_not_wedge_the_circuit() -> None:
    circuit, timer = breaker()
    circuit.trip()
    timer.advance(10)
    assert circuit.allow()
    timer.advance(9)
    assert not circuit.allow()
    timer.advance(1)
    assert circuit.allow()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitSettings(failure_threshold=0)
    with pytest.raises(ValueError, match="cool_down"):
        CircuitSettings(cool_down=0)
