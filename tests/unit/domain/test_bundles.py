"""Bundles: validation, derived availability and expansion of order events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.domain.bundles import (
    MAX_COMPONENTS,
    Bundle,
    BundleComponent,
    bundle_available,
    expand,
    moves_components,
)
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import (
    EventType,
    LedgerEvent,
    StockAdjusted,
    StockCounted,
    StockFulfilled,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
)
from omnistock.domain.ids import MAX_QUANTITY, AccountId, LocationId, Sku

KIT = Sku("KIT")
A, B, C = Sku("A"), Sku("B"), Sku("C")
_C: dict[str, Any] = {
    "idempotency_key": "k-1",
    "sku": KIT,
    "location": LocationId("wh-1"),
    "source": "shop",
    "occurred_at": datetime(2024, 1, 1, tzinfo=UTC),
}


def bundle(*parts: tuple[str, int], sku: str = KIT) -> Bundle:
    return Bundle(Sku(sku), tuple(BundleComponent(Sku(c), q) for c, q in parts))


def test_valid_bundle() -> None:
    bundle((A, 1), (B, 2)).validate()
    bundle(*[(f"c{i}", 1) for i in range(MAX_COMPONENTS)]).validate()


@pytest.mark.parametrize(
    ("b", "field", "problem"),
    [
        (bundle((A, 1), sku=""), "bundle.sku", "must not be empty"),
        (bundle((A, 1), sku=" KIT"), "bundle.sku", "must not start or end with white space"),
        (bundle(), "bundle.components", "must not be empty"),
        (
            bundle(*[(f"c{i}", 1) for i in range(MAX_COMPONENTS + 1)]),
            "bundle.components",
            f"at most {MAX_COMPONENTS} allowed",
        ),
        (bundle((A, 1), (KIT, 1)), "bundle.components", "a bundle cannot contain itself"),
        (bundle((A, 1), (B, 1), (A, 2)), "bundle.components", "'A' is repeated"),
        (bundle(("", 1)), "bundle.components.sku", "must not be empty"),
        (bundle(("A\x00", 1)), "bundle.components.sku", "must not contain control characters"),
        (bundle((A, 0)), "bundle.components.quantity", "must be at least 1, got 0"),
        (bundle((A, -2)), "bundle.components.quantity", "must be at least 1, got -2"),
        (bundle((A, True)), "bundle.components.quantity", "must be an integer, got bool"),
        (bundle((A, 1.0)), "bundle.components.quantity", "must be an integer, got float"),  # type: ignore[arg-type]
        (
            bundle((A, MAX_QUANTITY + 1)),
            "bundle.components.quantity",
            f"must be at most {MAX_QUANTITY}, got {MAX_QUANTITY + 1}",
        ),
    ],
)
def test_invalid_bundle(b: Bundle, field: str, problem: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        b.validate()
    assert (info.value.field, info.value.problem) == (field, problem)


def test_non_str_component_sku() -> None:
    b = Bundle(KIT, (BundleComponent(7, 1),))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as info:
        b.validate()
    assert info.value.field == "bundle.components.sku"


# --- availability -------------------------------------------------------------------------


def test_availability_is_min_of_whole_bundles() -> None:
    kit = bundle((A, 1), (B, 2), (C, 3))
    stock = {A: 10, B: 7, C: 10}
    assert bundle_available(kit, stock.__getitem__) == 3  # min(10, 3, 3)
    stock[C] = 8
    assert bundle_available(kit, stock.__getitem__) == 2
    stock[B] = 1
    assert bundle_available(kit, stock.__getitem__) == 0


def test_availability_never_below_zero() -> None:
    kit = bundle((A, 2), (B, 1))
    assert bundle_available(kit, {A: -3, B: 5}.__getitem__) == 0
    assert bundle_available(kit, {A: -1, B: -1}.__getitem__) == 0


def test_component_in_many_bundles() -> None:
    stock = {A: 12, B: 5, C: 2}
    k1 = bundle((A, 2), (B, 1), sku="K1")
    k2 = bundle((A, 3), (C, 1), sku="K2")
    k3 = bundle((A, 12), sku="K3")
    assert [bundle_available(k, stock.__getitem__) for k in (k1, k2, k3)] == [5, 2, 1]


@given(st.lists(st.tuples(st.integers(1, 20), st.integers(-50, 500)), min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_availability_property(parts: list[tuple[int, int]]) -> None:
    kit = bundle(*[(f"c{i}", q) for i, (q, _) in enumerate(parts)])
    stock = {Sku(f"c{i}"): avail for i, (_, avail) in enumerate(parts)}
    n = bundle_available(kit, stock.__getitem__)
    assert n >= 0
    # n bundles can be made, n + 1 cannot (unless a component is negative, then none)
    assert all(stock[c.sku] >= n * c.quantity for c in kit.components) or n == 0
    assert any(stock[c.sku] < (n + 1) * c.quantity for c in kit.components)


# --- moving components --------------------------------------------------------------------


def test_moves_components() -> None:
    moving: dict[EventType, LedgerEvent] = {
        EventType.RESERVED: StockReserved(**_C, quantity=1, order_line="o"),
        EventType.RELEASED: StockReleased(**_C, quantity=1, order_line="o"),
        EventType.FULFILLED: StockFulfilled(**_C, quantity=1, order_line="o"),
        EventType.RETURNED: StockReturned(**_C, quantity=1, restock=True),
    }
    still: list[LedgerEvent] = [
        StockReceived(**_C, quantity=1),
        StockAdjusted(**_C, quantity=1, reason="r"),
        StockCounted(**_C, quantity=1),
    ]
    assert all(moves_components(e) for e in moving.values())
    assert not any(moves_components(e) for e in still)
    assert set(moving) | {e.type for e in still} == set(EventType)


def test_expand_multiplies_quantities_and_keeps_the_rest() -> None:
    kit = bundle((A, 1), (B, 3))
    event = StockReserved(**_C, quantity=4, order_line="o-7", account=AccountId("acc"))
    parts = expand(event, kit)
    assert parts == (
        StockReserved(**{**_C, "sku": A}, quantity=4, order_line="o-7", account=AccountId("acc")),
        StockReserved(**{**_C, "sku": B}, quantity=12, order_line="o-7", account=AccountId("acc")),
    )
    for part in parts:
        part.validate()


def test_expand_keeps_type_specific_fields() -> None:
    kit = bundle((A, 2))
    (part,) = expand(StockReturned(**_C, quantity=2, restock=True, order_line="o"), kit)
    assert isinstance(part, StockReturned)
    assert (part.sku, part.quantity, part.restock, part.order_line) == (A, 4, True, "o")


def test_expand_at_the_limit() -> None:
    kit = bundle((A, 1), (B, MAX_QUANTITY))
    parts = expand(StockReleased(**_C, quantity=1, order_line="o"), kit)
    assert [p.quantity for p in parts] == [1, MAX_QUANTITY]


@pytest.mark.parametrize(
    ("q", "per"), [(2, MAX_QUANTITY // 2 + 1), (MAX_QUANTITY, 2), (65536, 32768)]
)
def test_expand_beyond_max_quantity_raises(q: int, per: int) -> None:
    kit = bundle((A, 1), (B, per))
    with pytest.raises(InvalidInputError) as info:
        expand(StockReserved(**_C, quantity=q, order_line="o"), kit)
    assert info.value.field == "quantity"
    assert info.value.problem == f"bundle expansion exceeds {MAX_QUANTITY}"
