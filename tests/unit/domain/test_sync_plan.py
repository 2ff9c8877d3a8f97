"""A first sync's plan: what each listing's write would change, held listings, the guard."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.balance import Balance
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.domain.planning import ListingPlan
from omnistock.domain.sync_plan import (
    Change,
    FirstSyncGuard,
    PlannedWrite,
    SyncPlan,
    plan_first_sync,
    stock_known,
)

MAIN = LocationId("main")
POLICY = AllocationPolicy()


def _plan(sku: str) -> ListingPlan:
    return ListingPlan(ListingId(f"a:{sku}"), Sku(sku), POLICY)


def _balances(**available: int) -> dict[Sku, dict[LocationId, Balance]]:
    return {Sku(sku): {MAIN: Balance(qty, 0)} for sku, qty in available.items()}


def test_each_listing_s_change_from_what_the_channel_shows() -> None:
    listings = [_plan(s) for s in ("UP", "DOWN", "ZERO", "SAME", "UNREAD", "NEW")]
    balances = _balances(UP=7, DOWN=2, ZERO=0, SAME=4, UNREAD=3)
    shown = {ListingId(f"a:{s}"): q for s, q in (("UP", 5), ("DOWN", 6), ("ZERO", 3), ("SAME", 4))}
    plan = plan_first_sync(AccountId("a"), listings, balances, {}, shown)
    changes = {w.sku: (w.change, w.desired, w.delta) for w in plan.writes}
    assert changes == {
        "UP": (Change.INCREASE, 7, 2),
        "DOWN": (Change.DECREASE, 2, -4),
        "ZERO": (Change.TO_ZERO, 0, -3),
        "SAME": (Change.UNCHANGED, 4, 0),
        "UNREAD": (Change.UNREAD, 3, 0),
        "NEW": (Change.HELD, None, 0),  # no event ever told of NEW: nothing written
    }
    assert plan.to_write() == 4
    assert [w.sku for w in plan.largest(2)] == ["DOWN", "ZERO"]


def test_unknown_stock_is_planned_as_zero_when_the_operator_says_so() -> None:
    plan = plan_first_sync(
        AccountId("a"), [_plan("NEW")], {}, {}, {ListingId("a:NEW"): 9}, hold_unknown=False
    )
    [write] = plan.writes
    assert (write.change, write.desired, write.delta) == (Change.TO_ZERO, 0, -9)


def test_a_bundle_s_stock_is_known_only_when_every_component_s_is() -> None:
    kit = Bundle(Sku("KIT"), (BundleComponent(Sku("A"), 1), BundleComponent(Sku("B"), 2)))
    bundles = {Sku("KIT"): kit}
    assert not stock_known(Sku("KIT"), _balances(A=3), bundles)
    assert stock_known(Sku("KIT"), _balances(A=3, B=0), bundles)
    assert stock_known(Sku("A"), _balances(A=0), bundles)
    assert not stock_known(Sku("C"), _balances(A=3), bundles)


def test_the_guard_refuses_too_many_zeros_or_units_removed() -> None:
    writes = (
        PlannedWrite(ListingId("a:1"), Sku("1"), 5, 0, Change.TO_ZERO),
        PlannedWrite(ListingId("a:2"), Sku("2"), 9, 4, Change.DECREASE),
        PlannedWrite(ListingId("a:3"), Sku("3"), 1, 8, Change.INCREASE),
    )
    plan = SyncPlan(AccountId("a"), writes)
    assert FirstSyncGuard().exceeded(plan) == []
    assert FirstSyncGuard(max_to_zero=1, max_units_removed=10).exceeded(plan) == []
    assert FirstSyncGuard(max_to_zero=0, max_units_removed=9).exceeded(plan) == [
        "1 listings would go to zero (limit 0)",
        "10 units would be removed (limit 9)",
    ]
    with pytest.raises(InvalidInputError, match="max_to_zero"):
        FirstSyncGuard(max_to_zero=-1)


@given(
    st.dictionaries(
        st.sampled_from(list("ABCDEFGH")),
        st.tuples(st.integers(0, 20) | st.none(), st.integers(0, 20) | st.none()),
    )
)
def test_every_listing_is_planned_once_and_only_known_stock_is_written(
    cases: dict[str, tuple[int | None, int | None]],
) -> None:
    listings = [_plan(s) for s in sorted(cases)]
    balances = _balances(**{s: q for s, (q, _) in cases.items() if q is not None})
    shown = {ListingId(f"a:{s}"): shown for s, (_, shown) in cases.items()}
    plan = plan_first_sync(AccountId("a"), listings, balances, {}, shown)
    assert [w.listing for w in plan.writes] == [p.listing for p in listings]
    assert sum(plan.counts().values()) == len(listings)
    for w in plan.writes:
        known = cases[w.sku][0] is not None
        assert (w.desired is None) == (not known)
        assert w.change is not Change.HELD or not known
