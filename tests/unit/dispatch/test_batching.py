"""Ordering by risk, packing into batches, the linger rule and the coalesced write."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.dispatch import DispatchSettings
from omnistock.dispatch.batching import (
    by_risk,
    may_linger,
    pack,
    pack_grouped,
    risk,
    update_of,
)
from omnistock.domain.planning import Priority
from tests.unit.dispatch.builders import due


def test_risk_ranks_out_of_stock_low_stock_decrease_then_increase() -> None:
    assert risk(due("a", 0, pushed=5, priority=Priority.OUT_OF_STOCK).state) == 0
    assert risk(due("b", 2, pushed=5, priority=Priority.LOW_STOCK).state) == 1
    assert risk(due("c", 8, pushed=9).state) == Priority.DECREASE
    assert risk(due("d", 9, pushed=8).state) == Priority.INCREASE
    assert risk(due("e", 9).state) == Priority.INCREASE  # never pushed


def test_by_risk_puts_zeroes_first_then_fewest_left_then_most_shown_that_is_gone() -> None:
    items = [
        due("up-new", 50, pushed=10, seq=3),
        due("up-old", 60, pushed=10, seq=1),
        due("down", 40, pushed=50, seq=9),
        due("down-few", 5, pushed=6, seq=10),
        due("zero", 0, pushed=3, priority=Priority.OUT_OF_STOCK, seq=8),
        due("low-1-of-2", 1, pushed=2, priority=Priority.LOW_STOCK, seq=7),
        due("low-1-of-4", 1, pushed=4, priority=Priority.LOW_STOCK, seq=8),
        due("low-1-of-4-older", 1, pushed=4, priority=Priority.LOW_STOCK, seq=5),
        due("low-2", 2, priority=Priority.LOW_STOCK, seq=2),
    ]
    ordered = [d.state.listing for d in by_risk(items)]
    assert ordered == [
        "zero",
        "low-1-of-4-older",
        "low-1-of-4",
        "low-1-of-2",
        "low-2",
        "down-few",
        "down",
        "up-old",
        "up-new",
    ]


@given(items=st.lists(st.integers(), max_size=300), size=st.integers(1, 120))
def test_pack_keeps_order_and_fills_every_batch_but_the_last(items: list[int], size: int) -> None:
    batches = pack(items, size)
    assert [x for batch in batches for x in batch] == items
    assert all(len(b) == size for b in batches[:-1])
    assert all(0 < len(b) <= size for b in batches)


def test_pack_refuses_an_empty_batch_size() -> None:
    with pytest.raises(ValueError, match="batch size"):
        pack([1], 0)


@given(
    items=st.lists(st.tuples(st.sampled_from("abc"), st.integers()), max_size=300, unique=True),
    size=st.integers(1, 50),
)
def test_pack_grouped_makes_the_fewest_one_group_batches_in_first_item_order(
    items: list[tuple[str, int]], size: int
) -> None:
    batches = pack_grouped(items, size, lambda item: item[0])
    assert sorted(x for b in batches for x in b) == sorted(items)
    assert all(0 < len(b) <= size and len({g for g, _ in b}) == 1 for b in batches)
    groups = {g for g, _ in items}
    fewest = sum(-(-sum(1 for x in items if x[0] == g) // size) for g in groups)
    assert len(batches) == fewest
    for b in batches:  # within a group, the original order
        assert b == sorted(b, key=items.index)
    firsts = [items.index(b[0]) for b in batches]
    assert firsts == sorted(firsts)


def test_pack_grouped_sends_the_most_urgent_group_first() -> None:
    items = [("p1", 1), ("simple", 2), ("p1", 3), ("simple", 4), ("p2", 5)]
    assert pack_grouped(items, 100, lambda item: item[0]) == [
        [("p1", 1), ("p1", 3)],
        [("simple", 2), ("simple", 4)],
        [("p2", 5)],
    ]
    with pytest.raises(ValueError, match="batch size"):
        pack_grouped(items, 0, lambda item: item[0])


def test_only_a_short_batch_of_increases_may_linger() -> None:
    ups = [due(f"u{n}", 9, pushed=1) for n in range(3)]
    assert may_linger(ups, max_batch=100)
    assert not may_linger(ups, max_batch=3)  # already a full batch
    assert not may_linger([], max_batch=100)
    assert not may_linger([*ups, due("d", 1, pushed=5)], max_batch=100)


def test_update_carries_the_latest_desired_quantity_its_sequence_and_the_pushed_one() -> None:
    # The channel should show what was pushed last: compare-and-set needs no read first.
    update = update_of(due("a", 4, pushed=9, seq=41))
    assert (update.quantity, update.sequence, update.expected) == (4, 41, 9)
    assert (update.ref.listing, update.ref.sku) == ("a", "SKU-a")
    assert update.ref.external_ids == {"product_id": "7"}


def test_dispatch_settings_refuse_a_spinning_loop() -> None:
    with pytest.raises(ValueError, match="min_wait"):
        DispatchSettings(min_wait=0)
    with pytest.raises(ValueError, match="take"):
        DispatchSettings(take=0)
