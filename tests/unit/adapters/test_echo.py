"""EchoFilter: a recent write of the same quantity is an echo; later writes win; entries
expire after the TTL and the oldest are evicted when memory is full."""

from __future__ import annotations

import pytest

from omnistock.adapters.echo import EchoFilter
from omnistock.clock import ManualTimer


def test_a_recent_write_of_that_quantity_is_an_echo() -> None:
    echoes = EchoFilter(ManualTimer())
    echoes.wrote("p-1", 5)
    assert echoes.is_echo("p-1", 5)
    assert echoes.is_echo("p-1", 5)  # redelivered webhooks are echoes too


def test_a_different_quantity_or_key_is_not_an_echo() -> None:
    echoes = EchoFilter(ManualTimer())
    echoes.wrote("p-1", 5)
    assert not echoes.is_echo("p-1", 4)
    assert not echoes.is_echo("p-2", 5)


def test_a_late_echo_of_an_earlier_write_is_still_an_echo() -> None:
    # Deliveries are not ordered: the webhook of the write of 5 may come after the 3's.
    echoes = EchoFilter(ManualTimer(), depth=2)
    echoes.wrote("p-1", 5)
    echoes.wrote("p-1", 3)
    assert echoes.is_echo("p-1", 3)
    assert echoes.is_echo("p-1", 5)
    echoes.wrote("p-1", 7)  # only the last `depth` writes are remembered
    assert not echoes.is_echo("p-1", 5)
    assert [echoes.is_echo("p-1", q) for q in (3, 7)] == [True, True]


def test_writes_expire_after_the_ttl() -> None:
    timer = ManualTimer()
    echoes = EchoFilter(timer, ttl=300.0)
    echoes.wrote("p-1", 5)
    timer.advance(299.5)
    assert echoes.is_echo("p-1", 5)
    timer.advance(0.5)
    assert not echoes.is_echo("p-1", 5)
    assert len(echoes) == 0


def test_rewriting_a_key_restarts_its_ttl() -> None:
    timer = ManualTimer()
    echoes = EchoFilter(timer, ttl=10.0)
    echoes.wrote("p-1", 5)
    timer.advance(8.0)
    echoes.wrote("p-1", 5)
    timer.advance(8.0)
    assert echoes.is_echo("p-1", 5)


def test_expired_entries_are_dropped_on_write() -> None:
    timer = ManualTimer()
    echoes = EchoFilter(timer, ttl=10.0)
    for key in ("a", "b", "c"):
        echoes.wrote(key, 1)
    timer.advance(10.0)
    echoes.wrote("d", 1)
    assert len(echoes) == 1


def test_the_oldest_write_is_evicted_when_full() -> None:
    timer = ManualTimer()
    echoes = EchoFilter(timer, max_entries=3)
    for quantity, key in enumerate(("a", "b", "c")):
        echoes.wrote(key, quantity)
        timer.advance(1.0)
    echoes.wrote("a", 0)  # rewriting makes "a" the newest; "b" is now the oldest
    echoes.wrote("d", 3)
    assert len(echoes) == 3
    assert not echoes.is_echo("b", 1)
    assert [echoes.is_echo(k, q) for k, q in (("a", 0), ("c", 2), ("d", 3))] == [True] * 3


@pytest.mark.parametrize(
    ("ttl", "max_entries", "depth"), [(0.0, 10, 1), (-1.0, 10, 1), (10.0, 0, 1), (10.0, 10, 0)]
)
def test_rejects_nonsense_settings(ttl: float, max_entries: int, depth: int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        EchoFilter(ManualTimer(), ttl=ttl, max_entries=max_entries, depth=depth)
