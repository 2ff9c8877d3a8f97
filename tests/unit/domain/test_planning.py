"""Planning: affected SKUs, per-location availability, priorities and desired changes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.domain.allocation import AllocationPolicy, desired_quantity
from omnistock.domain.balance import Balance
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.ids import ListingId, LocationId, Sku
from omnistock.domain.planning import (
    DesiredChange,
    ListingPlan,
    Priority,
    affected_skus,
    availability,
    availability_changed,
    plan_desired,
    priority,
)
from tests.unit.domain import strategies as s

A, B, C, KIT, KIT2 = Sku("A"), Sku("B"), Sku("C"), Sku("KIT"), Sku("KIT2")
L1, L2, L3 = LocationId("wh-1"), LocationId("wh-2"), LocationId("shop")
KIT_BUNDLE = Bundle(KIT, (BundleComponent(A, 1), BundleComponent(B, 2)))
KIT2_BUNDLE = Bundle(KIT2, (BundleComponent(A, 3),))
BUNDLES = {KIT: KIT_BUNDLE, KIT2: KIT2_BUNDLE}
CONTAINING = {A: [KIT, KIT2], B: [KIT]}


def test_priority_values() -> None:
    assert (
        Priority.OUT_OF_STOCK,
        Priority.LOW_STOCK,
        Priority.DECREASE,
        Priority.INCREASE,
    ) == (0, 1, 2, 3)


# --- affected SKUs ------------------------------------------------------------------------


def test_affected_skus_include_containing_bundles() -> None:
    assert affected_skus([A], CONTAINING) == {A, KIT, KIT2}
    assert affected_skus([B], CONTAINING) == {B, KIT}
    assert affected_skus([C], CONTAINING) == {C}
    assert affected_skus([B, C], CONTAINING) == {B, C, KIT}
    assert affected_skus([], CONTAINING) == set()
    assert affected_skus(iter([A, A]), CONTAINING) == {A, KIT, KIT2}


def test_affected_skus_accept_generators() -> None:
    assert affected_skus((x for x in [B]), {B: (b for b in [KIT])}) == {B, KIT}


# --- availability -------------------------------------------------------------------------


def test_availability_of_a_plain_sku() -> None:
    balances = {A: {L1: Balance(5, 2), L2: Balance(1, 3)}}
    assert availability(A, balances, BUNDLES) == {L1: 3, L2: -2}
    assert availability(C, balances, BUNDLES) == {}


def test_availability_of_a_bundle_per_location() -> None:
    balances = {
        A: {L1: Balance(10, 0), L2: Balance(1, 0), L3: Balance(9, 0)},
        B: {L1: Balance(7, 1), L2: Balance(8, 0)},
    }
    # L1: min(10, 6 // 2) = 3; L2: min(1, 4) = 1; L3: B has no balance there -> 0
    assert availability(KIT, balances, BUNDLES) == {L1: 3, L2: 1, L3: 0}
    assert availability(KIT2, balances, BUNDLES) == {L1: 3, L2: 0, L3: 3}


def test_availability_of_a_bundle_without_component_stock() -> None:
    assert availability(KIT, {}, BUNDLES) == {}
    assert availability(KIT, {A: {L1: Balance(0, 5)}}, BUNDLES) == {L1: 0}


# --- priority -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "desired", "low", "expected"),
    [
        (10, 0, 3, Priority.OUT_OF_STOCK),
        (None, 0, 3, Priority.OUT_OF_STOCK),
        (0, 0, 0, Priority.OUT_OF_STOCK),
        (10, 3, 3, Priority.LOW_STOCK),
        (1, 2, 3, Priority.LOW_STOCK),  # low stock even when rising
        (None, 1, 3, Priority.LOW_STOCK),
        (10, 4, 3, Priority.DECREASE),
        (10, 9, 0, Priority.DECREASE),
        (4, 10, 3, Priority.INCREASE),
        (None, 10, 3, Priority.INCREASE),
        (10, 10, 3, Priority.INCREASE),
        (2, 1, 0, Priority.DECREASE),
    ],
)
def test_priority(previous: int | None, desired: int, low: int, expected: int) -> None:
    assert priority(previous, desired, low) == expected


@given(st.none() | st.integers(0, 100), st.integers(0, 100), st.integers(0, 10))
@settings(max_examples=200, deadline=None)
def test_priority_orders_oversell_risks_first(previous: int | None, desired: int, low: int) -> None:
    p = priority(previous, desired, low)
    assert p in {0, 1, 2, 3}
    assert (p == Priority.OUT_OF_STOCK) == (desired == 0)
    if p == Priority.INCREASE:
        assert desired > low
        assert previous is None or desired >= previous


# --- plan_desired -------------------------------------------------------------------------


def test_plan_desired_only_returns_changes() -> None:
    balances = {A: {L1: Balance(10, 2)}, B: {L1: Balance(4, 0)}}
    plans = [
        ListingPlan(ListingId("same"), A, AllocationPolicy()),  # 8, already shown
        ListingPlan(ListingId("up"), A, AllocationPolicy(share=0.5)),  # 4 <- 2
        ListingPlan(ListingId("new"), B, AllocationPolicy()),  # 4, never shown
        ListingPlan(ListingId("kit"), KIT, AllocationPolicy()),  # min(8, 2) = 2 <- 5
        ListingPlan(ListingId("gone"), C, AllocationPolicy()),  # 0 <- 6
        ListingPlan(ListingId("down"), A, AllocationPolicy(max_shown=5)),  # 5 <- 7
    ]
    current = {
        ListingId("same"): 8,
        ListingId("up"): 2,
        ListingId("kit"): 5,
        ListingId("gone"): 6,
        ListingId("down"): 7,
    }
    versions = {A: 7, B: 2, KIT: 9}
    changes = plan_desired(plans, balances, BUNDLES, versions, current)
    assert changes == [
        DesiredChange(ListingId("up"), 4, 7, Priority.INCREASE),
        DesiredChange(ListingId("new"), 4, 2, Priority.INCREASE),
        DesiredChange(ListingId("kit"), 2, 9, Priority.LOW_STOCK),
        DesiredChange(ListingId("gone"), 0, 0, Priority.OUT_OF_STOCK),
        DesiredChange(ListingId("down"), 5, 7, Priority.DECREASE),
    ]


def test_plan_desired_uses_each_listing_policy_and_low_stock() -> None:
    balances = {A: {L1: Balance(3, 0), L2: Balance(5, 0)}}
    plans = [
        ListingPlan(ListingId("x"), A, AllocationPolicy(locations=frozenset({L1}), low_stock=0)),
        ListingPlan(ListingId("y"), A, AllocationPolicy(locations=frozenset({L2}), low_stock=5)),
    ]
    changes = plan_desired(plans, balances, {}, {A: 1}, {ListingId("x"): 9, ListingId("y"): 9})
    assert changes == [
        DesiredChange(ListingId("x"), 3, 1, Priority.DECREASE),
        DesiredChange(ListingId("y"), 5, 1, Priority.LOW_STOCK),
    ]


def test_plan_desired_nothing_to_do() -> None:
    assert plan_desired([], {}, {}, {}, {}) == []
    plans = [ListingPlan(ListingId("x"), A, AllocationPolicy())]
    assert plan_desired(plans, {}, {}, {}, {ListingId("x"): 0}) == []


@given(
    st.dictionaries(
        st.sampled_from([A, B, C]),
        st.dictionaries(st.sampled_from([L1, L2, L3]), s.any_balances, max_size=3),
        max_size=3,
    ),
    st.lists(st.tuples(st.sampled_from([A, B, C, KIT, KIT2]), s.policies), max_size=8),
    st.dictionaries(st.sampled_from([A, B, C, KIT, KIT2]), st.integers(0, 50)),
    st.lists(st.none() | st.integers(0, 300), min_size=8, max_size=8),
)
@settings(max_examples=100, deadline=None)
def test_plan_desired_property(
    balances: dict[Sku, dict[LocationId, Balance]],
    listings: list[tuple[Sku, AllocationPolicy]],
    versions: dict[Sku, int],
    shown: list[int | None],
) -> None:
    plans = [ListingPlan(ListingId(f"l{i}"), sku, p) for i, (sku, p) in enumerate(listings)]
    current = {p.listing: q for p, q in zip(plans, shown, strict=False) if q is not None}
    changes = plan_desired(plans, balances, BUNDLES, versions, current)
    by_listing = {c.listing: c for c in changes}
    assert len(by_listing) == len(changes)
    for plan in plans:
        desired = desired_quantity(plan.policy, availability(plan.sku, balances, BUNDLES))
        change = by_listing.get(plan.listing)
        if desired == current.get(plan.listing):
            assert change is None
        else:
            assert change is not None
            assert change.quantity == desired
            assert change.sequence == versions.get(plan.sku, 0)
            assert change.priority == priority(
                current.get(plan.listing), desired, plan.policy.low_stock
            )
    # changes keep the input order
    order = [p.listing for p in plans if p.listing in by_listing]
    assert [c.listing for c in changes] == order


def test_availability_changed_ignores_moves_that_keep_available() -> None:
    before = {A: {L1: Balance(5, 2)}, B: {L1: Balance(5, 0)}}
    after = {
        A: {L1: Balance(4, 1)},  # a shipment: on hand and reserved fell together
        B: {L1: Balance(5, 0), L2: Balance(1, 0)},  # stock arrived at a new location
        C: {L1: Balance(0, 0)},  # first balance row, still nothing available
    }
    assert availability_changed(before, after) == {B}
    assert availability_changed(before, {A: {L1: Balance(5, 3)}}) == {A}
