"""Allocation policies: validation, overrides and the desired quantity of a listing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from omnistock.domain.allocation import (
    NO_OVERRIDE,
    AllocationPolicy,
    PolicyOverride,
    desired_quantity,
    effective_policy,
    feeding_available,
)
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import MAX_QUANTITY, LocationId
from tests.unit.domain import strategies as s

L1, L2, L3 = LocationId("wh-1"), LocationId("wh-2"), LocationId("shop")


def policy(**kw: Any) -> AllocationPolicy:
    p = AllocationPolicy(**kw)
    p.validate()
    return p


def test_default_policy_shows_everything() -> None:
    p = policy()
    assert (p.safety_buffer, p.share, p.max_shown, p.zero_below, p.locations, p.low_stock) == (
        0,
        1.0,
        None,
        0,
        None,
        3,
    )
    assert desired_quantity(p, {L1: 5, L2: 7}) == 12
    assert desired_quantity(p, {}) == 0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"safety_buffer": -1}, "safety_buffer"),
        ({"safety_buffer": True}, "safety_buffer"),
        ({"safety_buffer": 1.5}, "safety_buffer"),
        ({"safety_buffer": MAX_QUANTITY + 1}, "safety_buffer"),
        ({"share": -0.01}, "share"),
        ({"share": 1.0001}, "share"),
        ({"share": 2}, "share"),
        ({"share": True}, "share"),
        ({"share": False}, "share"),
        ({"share": "0.5"}, "share"),
        ({"share": None}, "share"),
        ({"share": float("nan")}, "share"),
        ({"share": float("inf")}, "share"),
        ({"max_shown": -1}, "max_shown"),
        ({"max_shown": 2.0}, "max_shown"),
        ({"max_shown": MAX_QUANTITY + 1}, "max_shown"),
        ({"zero_below": -1}, "zero_below"),
        ({"zero_below": False}, "zero_below"),
        ({"low_stock": -1}, "low_stock"),
        ({"low_stock": "3"}, "low_stock"),
        ({"locations": frozenset()}, "locations"),
        ({"locations": frozenset({""})}, "locations"),
        ({"locations": frozenset({"wh-1", " wh-2"})}, "locations"),
        ({"locations": frozenset({"wh\x00"})}, "locations"),
        ({"locations": frozenset({7})}, "locations"),
    ],
)
def test_invalid_policy_names_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        AllocationPolicy(**kw).validate()
    assert info.value.field == field


@pytest.mark.parametrize(
    "kw",
    [
        {"share": 0},
        {"share": 1},
        {"share": 0.0},
        {"max_shown": 0},
        {"max_shown": MAX_QUANTITY},
        {"zero_below": 0, "low_stock": 0, "safety_buffer": 0},
        {"locations": frozenset({L1})},
    ],
)
def test_valid_policy_bounds(kw: dict[str, Any]) -> None:
    AllocationPolicy(**kw).validate()


@pytest.mark.parametrize(
    ("share", "available", "expected"),
    [
        (0.29, 100, 29),  # not 28: 0.29 * 100 == 28.999999999999996
        (0.57, 100, 57),
        (0.1, 10, 1),
        (0.5, 7, 3),  # rounds down: never shows a unit that is not there
        (0.333, 1000, 333),
        (1.0, 13, 13),
        (0.0, 13, 0),
        (1, 13, 13),
    ],
)
def test_share_applied_in_basis_points(share: float, available: int, expected: int) -> None:
    assert desired_quantity(policy(share=share), {L1: available}) == expected


def test_safety_buffer_comes_off_before_the_share() -> None:
    assert desired_quantity(policy(safety_buffer=2), {L1: 10}) == 8
    assert desired_quantity(policy(safety_buffer=2, share=0.5), {L1: 10}) == 4
    assert desired_quantity(policy(safety_buffer=10), {L1: 10}) == 0
    assert desired_quantity(policy(safety_buffer=11), {L1: 10}) == 0


def test_max_shown_caps() -> None:
    assert desired_quantity(policy(max_shown=5), {L1: 10}) == 5
    assert desired_quantity(policy(max_shown=5), {L1: 4}) == 4
    assert desired_quantity(policy(max_shown=0), {L1: 4}) == 0


def test_zero_below_hides_small_quantities() -> None:
    assert desired_quantity(policy(zero_below=3), {L1: 2}) == 0
    assert desired_quantity(policy(zero_below=3), {L1: 3}) == 3
    # zero_below applies to what would be shown, after buffer, share and cap
    assert desired_quantity(policy(zero_below=3, max_shown=2), {L1: 100}) == 0
    assert desired_quantity(policy(zero_below=3, safety_buffer=8), {L1: 10}) == 0


def test_locations_filter() -> None:
    p = policy(locations=frozenset({L1, L3}))
    available = {L1: 4, L2: 100, L3: 5}
    assert feeding_available(p, available) == 9
    assert desired_quantity(p, available) == 9
    assert feeding_available(policy(), available) == 109
    # a feeding location with no balance counts as zero
    assert feeding_available(policy(locations=frozenset({L3})), {L1: 4}) == 0


def test_negative_availability_clamps_to_zero() -> None:
    assert feeding_available(policy(), {L1: -5}) == 0
    assert feeding_available(policy(), {L1: -5, L2: 3}) == 0
    assert feeding_available(policy(), {L1: -2, L2: 3}) == 1  # summed before clamping
    assert desired_quantity(policy(), {L1: -5}) == 0
    assert desired_quantity(policy(locations=frozenset({L1})), {L1: -5, L2: 50}) == 0


@given(s.policies, s.availabilities)
@settings(max_examples=300, deadline=None)
def test_desired_between_zero_and_feeding_available(
    p: AllocationPolicy, available: dict[LocationId, int]
) -> None:
    p.validate()
    desired = desired_quantity(p, available)
    feeding = [v for loc, v in available.items() if p.locations is None or loc in p.locations]
    assert 0 <= desired <= max(sum(feeding), 0)
    assert desired == 0 or desired >= p.zero_below
    if p.max_shown is not None:
        assert desired <= p.max_shown
    assert desired <= max(sum(feeding) - p.safety_buffer, 0)


@given(s.policies, s.availabilities, s.availabilities)
@settings(max_examples=100, deadline=None)
def test_desired_is_monotone_without_zero_below(
    p: AllocationPolicy, a: dict[LocationId, int], extra: dict[LocationId, int]
) -> None:
    # More stock never shows less (zero_below aside, which is a step).
    p = AllocationPolicy(
        safety_buffer=p.safety_buffer, share=p.share, max_shown=p.max_shown, locations=p.locations
    )
    more = {loc: a.get(loc, 0) + abs(extra.get(loc, 0)) for loc in a.keys() | extra.keys()}
    assert desired_quantity(p, more) >= desired_quantity(p, a)


# --- overrides ----------------------------------------------------------------------------


def test_policy_override_is_empty() -> None:
    assert NO_OVERRIDE.is_empty()
    assert PolicyOverride().is_empty()
    for kw in (
        {"safety_buffer": 0},
        {"share": 0.0},
        {"max_shown": 0},
        {"zero_below": 0},
        {"locations": frozenset({L1})},
        {"low_stock": 0},
    ):
        assert not PolicyOverride(**kw).is_empty(), kw


def test_effective_policy_without_override_is_the_account_policy() -> None:
    account = policy(safety_buffer=2, share=0.5, locations=frozenset({L1}))
    assert effective_policy(account, NO_OVERRIDE) == account


def test_effective_policy_lays_overrides_over_account() -> None:
    account = policy(safety_buffer=2, share=0.5, max_shown=10, zero_below=1, low_stock=4)
    merged = effective_policy(
        account,
        PolicyOverride(share=1.0, max_shown=0, locations=frozenset({L2}), low_stock=0),
    )
    assert merged == AllocationPolicy(
        safety_buffer=2,
        share=1.0,
        max_shown=0,
        zero_below=1,
        locations=frozenset({L2}),
        low_stock=0,
    )
    # falsy overrides (0, 0.0) still count: only None keeps the account's value
    zeroed = effective_policy(account, PolicyOverride(safety_buffer=0, share=0.0, zero_below=0))
    assert (zeroed.safety_buffer, zeroed.share, zeroed.zero_below) == (0, 0.0, 0)
    assert account.safety_buffer == 2  # the account's policy is untouched


@pytest.mark.parametrize(
    ("override", "field"),
    [
        (PolicyOverride(share=1.5), "share"),
        (PolicyOverride(safety_buffer=-1), "safety_buffer"),
        (PolicyOverride(max_shown=-3), "max_shown"),
        (PolicyOverride(zero_below=-3), "zero_below"),
        (PolicyOverride(low_stock=-3), "low_stock"),
        (PolicyOverride(locations=frozenset()), "locations"),
    ],
)
def test_invalid_override_raises(override: PolicyOverride, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        effective_policy(policy(), override)
    assert info.value.field == field


def test_override_cannot_clear_a_cap() -> None:
    # None means "keep the account's value", so an override cannot remove max_shown.
    account = policy(max_shown=5)
    assert effective_policy(account, PolicyOverride(max_shown=None)).max_shown == 5
