"""Posting batches of events: the ledger's invariants, as properties."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.domain.balance import ZERO, Balance, Rejection, RejectionCode, ReservationPolicy
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.errors import ConcurrencyConflictError
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
from omnistock.domain.ids import MAX_QUANTITY, LocationId, Sku
from omnistock.domain.posting import (
    LedgerState,
    Outcome,
    Posting,
    RecordedEvent,
    all_or_nothing,
    check_expected,
    post,
    replay,
)
from tests.unit.domain import strategies as s

REJECT = ReservationPolicy.REJECT
BACKORDER = ReservationPolicy.BACKORDER
A, B, C, KIT, KIT2 = Sku("A"), Sku("B"), Sku("C"), Sku("KIT"), Sku("KIT2")
L1, L2 = s.STREAM_LOCATIONS
BUNDLES = {
    KIT: Bundle(KIT, (BundleComponent(A, 1), BundleComponent(B, 2))),
    KIT2: Bundle(KIT2, (BundleComponent(A, 3),)),
}
CONTAINING = {A: (KIT, KIT2), B: (KIT,)}
EMPTY = LedgerState(balances={}, versions={}, bundles={}, containing={})
WITH_BUNDLES = LedgerState(balances={}, versions={}, bundles=BUNDLES, containing=CONTAINING)
ORDER_KINDS = ("reserved", "released", "fulfilled", "returned")
NO_COUNTS = ("received", "adjusted", "reserved", "released", "fulfilled", "returned")

_C: dict[str, Any] = {"source": "t", "occurred_at": datetime(2024, 1, 1, tzinfo=UTC)}
_n = 0


def _key() -> str:
    global _n
    _n += 1
    return f"key-{_n}"


def ev(kind: str, sku: Sku, q: int, loc: LocationId = L1, **kw: Any) -> LedgerEvent:
    common = {**_C, "idempotency_key": _key(), "sku": sku, "location": loc, "quantity": q}
    match kind:
        case "received":
            return StockReceived(**common)
        case "adjusted":
            return StockAdjusted(**common, reason="r")
        case "counted":
            return StockCounted(**common)
        case "reserved":
            return StockReserved(**common, order_line="o")
        case "released":
            return StockReleased(**common, order_line="o")
        case "fulfilled":
            return StockFulfilled(**common, order_line="o")
        case _:
            return StockReturned(**common, restock=kw.get("restock", True))


def advance(state: LedgerState, posting: Posting) -> LedgerState:
    """The state a store would load after writing `posting`."""
    return replace(
        state,
        balances={**state.balances, **posting.balances},
        versions={**state.versions, **posting.versions},
    )


def table(
    balances: Mapping[Sku, Mapping[LocationId, Balance]],
) -> dict[Sku, dict[LocationId, Balance]]:
    return {sku: dict(at) for sku, at in balances.items()}


def all_balances(balances: Mapping[Sku, Mapping[LocationId, Balance]]) -> list[Balance]:
    return [b for at in balances.values() for b in at.values()]


# --- an independent model of the rules ----------------------------------------------------


def model_check(b: Balance, e: LedgerEvent, policy: ReservationPolicy) -> RejectionCode | None:
    q = e.quantity
    if e.type == "adjusted":
        if b.on_hand + q < 0:
            return RejectionCode.NEGATIVE_ON_HAND
        if policy == "reject" and q < 0 and b.on_hand + q < b.reserved:
            return RejectionCode.UNCOVERED_RESERVATIONS
    if e.type == "reserved" and policy == "reject" and b.on_hand - b.reserved < q:
        return RejectionCode.INSUFFICIENT_STOCK
    if e.type in ("released", "fulfilled") and b.reserved < q:
        return RejectionCode.NOTHING_RESERVED
    if e.type == "fulfilled" and b.on_hand < q:
        return RejectionCode.NEGATIVE_ON_HAND
    return None


def model_apply(b: Balance, e: LedgerEvent) -> Balance:
    q = e.quantity
    on_hand = {
        "received": b.on_hand + q,
        "adjusted": b.on_hand + q,
        "counted": q,
        "fulfilled": b.on_hand - q,
        "returned": b.on_hand + (q if getattr(e, "restock", False) else 0),
    }.get(e.type, b.on_hand)
    reserved = {
        "reserved": b.reserved + q,
        "released": b.reserved - q,
        "fulfilled": b.reserved - q,
    }.get(e.type, b.reserved)
    return Balance(on_hand, reserved)


def run_model(
    state: LedgerState, events: Sequence[LedgerEvent], policy: ReservationPolicy
) -> tuple[dict[tuple[Sku, LocationId], Balance], list[RejectionCode | None]]:
    bal = {(sku, loc): b for sku, at in state.balances.items() for loc, b in at.items()}
    codes: list[RejectionCode | None] = []
    for e in events:
        bundle = state.bundles.get(e.sku)
        if bundle is not None and e.type in ("received", "adjusted", "counted"):
            codes.append(RejectionCode.DERIVED_STOCK)
            continue
        parts = (
            [(c.sku, e.quantity * c.quantity) for c in bundle.components]
            if bundle
            else [(e.sku, e.quantity)]
        )
        group = [replace(e, sku=sku, quantity=q) for sku, q in parts]
        code = next(
            (
                c
                for g in group
                if (c := model_check(bal.get((g.sku, g.location), ZERO), g, policy)) is not None
            ),
            None,
        )
        codes.append(code)
        if code is None:
            for g in group:
                bal[g.sku, g.location] = model_apply(bal.get((g.sku, g.location), ZERO), g)
    return bal, codes


# --- small examples -----------------------------------------------------------------------


def test_empty_batch() -> None:
    result = post(EMPTY, [], REJECT)
    assert result == Posting()
    assert (result.outcomes, result.recorded, result.balances, result.versions) == ([], [], {}, {})


def test_outcome_applied() -> None:
    assert Outcome("k", (1,)).applied
    assert not Outcome("k", rejection=Rejection(RejectionCode.NOTHING_RESERVED, "x")).applied


def test_simple_batch() -> None:
    state = LedgerState(
        balances={A: {L1: Balance(5, 1), L2: Balance(2, 0)}},
        versions={A: 4},
        bundles={},
        containing={},
    )
    e1, e2, e3 = ev("received", A, 3), ev("reserved", A, 8), ev("reserved", A, 7)
    result = post(state, [e1, e2, e3], REJECT)
    assert result.outcomes == [
        Outcome(e1.idempotency_key, (5,)),
        Outcome(
            e2.idempotency_key,
            rejection=Rejection(RejectionCode.INSUFFICIENT_STOCK, "requested 8, available 7"),
        ),
        Outcome(e3.idempotency_key, (6,)),
    ]
    assert result.recorded == [RecordedEvent(e1, 5), RecordedEvent(e3, 6)]
    # every location of a touched SKU is returned, untouched ones unchanged
    assert result.balances == {A: {L1: Balance(8, 8), L2: Balance(2, 0)}}
    assert result.versions == {A: 6}
    assert state.balances[A][L1] == Balance(5, 1)  # the loaded state is not mutated


def test_rejected_event_touches_nothing() -> None:
    e = ev("released", A, 1)
    result = post(EMPTY, [e], BACKORDER)
    assert result.outcomes == [
        Outcome(
            e.idempotency_key,
            rejection=Rejection(RejectionCode.NOTHING_RESERVED, "1 requested, only 0 reserved"),
        )
    ]
    assert (result.recorded, result.balances, result.versions) == ([], {}, {})


def test_backorder_allows_overselling() -> None:
    result = post(EMPTY, [ev("received", A, 2), ev("reserved", A, 5)], BACKORDER)
    assert all(o.applied for o in result.outcomes)
    assert result.balances[A][L1] == Balance(2, 5)
    assert result.balances[A][L1].available == -3


def test_check_expected() -> None:
    versions = {A: 3, B: 0}
    check_expected(versions, {})
    check_expected(versions, {A: 3})
    check_expected(versions, {A: 3, B: 0, C: 0})  # an unseen SKU is at version 0
    with pytest.raises(ConcurrencyConflictError) as info:
        check_expected(versions, {A: 3, B: 1})
    assert (info.value.sku, info.value.expected, info.value.actual) == (B, 1, 0)
    with pytest.raises(ConcurrencyConflictError) as info:
        check_expected(versions, {A: 2})
    assert (info.value.sku, info.value.expected, info.value.actual) == (A, 2, 3)
    with pytest.raises(ConcurrencyConflictError) as info:
        check_expected(versions, {C: 1})
    assert (info.value.sku, info.value.expected, info.value.actual) == (C, 1, 0)


@given(
    st.dictionaries(st.sampled_from([A, B, C]), st.integers(0, 20)),
    st.dictionaries(st.sampled_from([A, B, C]), st.integers(0, 20)),
)
@settings(max_examples=100, deadline=None)
def test_check_expected_property(versions: dict[Sku, int], expected: dict[Sku, int]) -> None:
    stale = [sku for sku, v in expected.items() if versions.get(sku, 0) != v]
    if stale:
        with pytest.raises(ConcurrencyConflictError) as info:
            check_expected(versions, expected)
        sku = Sku(info.value.sku)
        assert sku in stale
        assert info.value.actual == versions.get(sku, 0)
        assert info.value.expected == expected[sku]
    else:
        check_expected(versions, expected)


# --- bundles ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["received", "adjusted", "counted"])
@pytest.mark.parametrize("policy", list(ReservationPolicy))
def test_stock_events_on_a_bundle_are_rejected(kind: str, policy: ReservationPolicy) -> None:
    e = ev(kind, KIT, 2)
    result = post(WITH_BUNDLES, [e], policy)
    assert result.outcomes == [
        Outcome(
            e.idempotency_key,
            rejection=Rejection(
                RejectionCode.DERIVED_STOCK, "stock of bundle 'KIT' is derived from its components"
            ),
        )
    ]
    assert (result.recorded, result.balances, result.versions) == ([], {}, {})


def test_bundle_reservation_moves_components() -> None:
    state = replace(
        WITH_BUNDLES,
        balances={A: {L1: Balance(5, 0)}, B: {L1: Balance(10, 0)}},
        versions={A: 2, B: 7, KIT: 9, KIT2: 1},
    )
    e = ev("reserved", KIT, 3)
    result = post(state, [e], REJECT)
    assert result.outcomes == [Outcome(e.idempotency_key, (3, 8))]
    assert result.balances == {A: {L1: Balance(5, 3)}, B: {L1: Balance(10, 6)}}
    assert [(r.event.sku, r.event.quantity, r.sequence, r.bundle) for r in result.recorded] == [
        (A, 3, 3, KIT),
        (B, 6, 8, KIT),
    ]
    # KIT moves once per component event; KIT2 only with A
    assert result.versions == {A: 3, B: 8, KIT: 11, KIT2: 2}


def test_bundle_reservation_is_all_or_nothing() -> None:
    # A covers the order, B does not: nothing is reserved anywhere.
    state = replace(
        WITH_BUNDLES, balances={A: {L1: Balance(5, 0)}, B: {L1: Balance(5, 0)}}, versions={}
    )
    e = ev("reserved", KIT, 3)
    result = post(state, [e], REJECT)
    (outcome,) = result.outcomes
    assert outcome.rejection == Rejection(
        RejectionCode.INSUFFICIENT_STOCK, "requested 6, available 5"
    )
    assert outcome.sequences == ()
    assert (result.recorded, result.balances, result.versions) == ([], {}, {})
    # the same order is backordered under backorder
    result = post(state, [e], BACKORDER)
    assert result.balances == {A: {L1: Balance(5, 3)}, B: {L1: Balance(5, 6)}}


def test_bundle_order_beyond_max_quantity_rejects_only_that_event() -> None:
    huge = ev("reserved", KIT, MAX_QUANTITY // 2 + 1)
    result = post(WITH_BUNDLES, [ev("received", A, 1), huge], BACKORDER)
    assert result.outcomes[0].applied
    rejection = result.outcomes[1].rejection
    assert rejection is not None
    assert rejection.code is RejectionCode.OUT_OF_RANGE
    assert [r.event.sku for r in result.recorded] == [A]


def test_component_event_bumps_every_containing_bundle() -> None:
    result = post(WITH_BUNDLES, [ev("received", A, 4), ev("received", B, 1)], REJECT)
    assert result.versions == {A: 1, B: 1, KIT: 2, KIT2: 1}
    assert [r.bundle for r in result.recorded] == [None, None]


# --- properties ---------------------------------------------------------------------------


@st.composite
def start_states(draw: st.DrawFn, bundles: bool = False) -> LedgerState:
    """A consistent starting state: balances and versions produced by a prior posting."""
    base = WITH_BUNDLES if bundles else EMPTY
    prefix = draw(s.streams(kinds=("received",), max_size=6))
    posted = post(base, prefix, REJECT)
    state = advance(base, posted)
    return replace(state, versions={**state.versions, C: draw(_versions)})


_versions = st.integers(0, 5)


STREAM = s.streams()
BUNDLE_STREAM = s.streams(skus=(A, B, C, KIT, KIT2))


@given(start_states(), STREAM, s.reservation_policies)
@settings(max_examples=200, deadline=None)
def test_post_matches_the_model(
    state: LedgerState, events: list[LedgerEvent], policy: ReservationPolicy
) -> None:
    result = post(state, events, policy)
    expected, codes = run_model(state, events, policy)
    assert [o.rejection.code if o.rejection else None for o in result.outcomes] == codes
    assert [o.idempotency_key for o in result.outcomes] == [e.idempotency_key for e in events]
    got = {(sku, loc): b for sku, at in result.balances.items() for loc, b in at.items()}
    for key, balance in got.items():
        assert balance == expected[key]
    touched = {e.sku for e, c in zip(events, codes, strict=True) if c is None}
    assert set(result.balances) == touched


@given(start_states(bundles=True), BUNDLE_STREAM, s.reservation_policies)
@settings(max_examples=200, deadline=None)
def test_post_matches_the_model_with_bundles_and_keeps_balances_consistent(
    state: LedgerState, events: list[LedgerEvent], policy: ReservationPolicy
) -> None:
    result = post(state, events, policy)
    expected, codes = run_model(state, events, policy)
    assert [o.rejection.code if o.rejection else None for o in result.outcomes] == codes
    for sku, at in result.balances.items():
        assert sku not in BUNDLES  # a bundle never gets a stored balance
        for loc, balance in at.items():
            assert balance == expected[sku, loc]
            assert balance.available == balance.on_hand - balance.reserved
            assert balance.on_hand >= 0
            assert balance.reserved >= 0


@given(STREAM, s.reservation_policies)
@settings(max_examples=200, deadline=None)
def test_replay_from_empty_gives_the_posted_balances(
    events: list[LedgerEvent], policy: ReservationPolicy
) -> None:
    result = post(EMPTY, events, policy)
    balances, sequences = replay(result.recorded)
    assert balances == result.balances
    assert sequences == result.versions  # no bundles: every version is a sequence


@given(STREAM, STREAM, s.reservation_policies)
@settings(max_examples=200, deadline=None)
def test_replay_of_the_whole_log_gives_the_current_state(
    first: list[LedgerEvent], second: list[LedgerEvent], policy: ReservationPolicy
) -> None:
    one = post(EMPTY, first, policy)
    state = advance(EMPTY, one)
    two = post(state, second, policy)
    now = advance(state, two)
    balances, sequences = replay([*one.recorded, *two.recorded])
    assert balances == table(now.balances)
    assert sequences == dict(now.versions)
    # and replaying only the second batch on top of the first reproduces it too
    assert replay(two.recorded)[1] == two.versions


@given(start_states(bundles=True), BUNDLE_STREAM, s.reservation_policies)
@settings(max_examples=200, deadline=None)
def test_replay_with_bundles(
    state: LedgerState, events: list[LedgerEvent], policy: ReservationPolicy
) -> None:
    result = post(state, events, policy)
    start = [
        RecordedEvent(ev("counted", sku, b.on_hand, loc), 0)
        for sku, at in state.balances.items()
        for loc, b in at.items()
    ]
    balances, _ = replay([*start, *result.recorded])
    for sku, at in result.balances.items():
        assert balances[sku] == at


@st.composite
def split(draw: st.DrawFn, events: list[LedgerEvent]) -> list[list[LedgerEvent]]:
    cuts = sorted(draw(st.lists(st.integers(0, len(events)), max_size=5)))
    bounds = [0, *cuts, len(events)]
    return [events[a:b] for a, b in itertools.pairwise(bounds)]


@given(start_states(bundles=True), BUNDLE_STREAM, s.reservation_policies, st.data())
@settings(max_examples=200, deadline=None)
def test_one_batch_equals_consecutive_batches(
    state: LedgerState,
    events: list[LedgerEvent],
    policy: ReservationPolicy,
    data: st.DataObject,
) -> None:
    whole = post(state, events, policy)
    batches = data.draw(split(events))
    assert [e for batch in batches for e in batch] == events
    current = state
    outcomes: list[Outcome] = []
    recorded: list[RecordedEvent] = []
    for batch in batches:
        part = post(current, batch, policy)
        outcomes += part.outcomes
        recorded += part.recorded
        current = advance(current, part)
    assert outcomes == whole.outcomes
    assert recorded == whole.recorded
    assert table(current.balances) == table(advance(state, whole).balances)
    assert dict(current.versions) == dict(advance(state, whole).versions)


@given(STREAM)
@settings(max_examples=200, deadline=None)
def test_reject_without_counts_never_uncovers_reservations(events: list[LedgerEvent]) -> None:
    kinds = {"received", "reserved", "released", "fulfilled", "returned", "adjusted"}
    events = [e for e in events if e.type in kinds]
    state = EMPTY
    for e in events:  # one event per batch: check after every step
        result = post(state, [e], REJECT)
        state = advance(state, result)
        for balance in all_balances(state.balances):
            assert 0 <= balance.reserved <= balance.on_hand
            assert balance.available >= 0


@given(STREAM)
@settings(max_examples=200, deadline=None)
def test_reject_never_accepts_a_reservation_into_negative(events: list[LedgerEvent]) -> None:
    state = EMPTY
    for e in events:
        before = state.balances.get(e.sku, {}).get(e.location, ZERO)
        result = post(state, [e], REJECT)
        (outcome,) = result.outcomes
        state = advance(state, result)
        after = state.balances.get(e.sku, {}).get(e.location, ZERO)
        if e.type == "reserved":
            if outcome.applied:
                assert after.available >= 0
                assert after == Balance(before.on_hand, before.reserved + e.quantity)
            else:
                assert before.available < e.quantity
                assert after == before


@given(start_states(), STREAM, s.reservation_policies)
@settings(max_examples=200, deadline=None)
def test_sequences_have_no_gaps_for_plain_skus(
    state: LedgerState, events: list[LedgerEvent], policy: ReservationPolicy
) -> None:
    result = post(state, events, policy)
    per_sku: dict[Sku, list[int]] = {}
    for r in result.recorded:
        per_sku.setdefault(r.event.sku, []).append(r.sequence)
        assert r.bundle is None
    for sku, seqs in per_sku.items():
        start = state.versions.get(sku, 0)
        assert seqs == list(range(start + 1, start + len(seqs) + 1))
        assert result.versions[sku] == seqs[-1]
    assert set(result.versions) == set(per_sku)
    applied = [o for o in result.outcomes if o.applied]
    assert [seq for o in applied for seq in o.sequences] == [r.sequence for r in result.recorded]
    assert all(len(o.sequences) == 1 for o in applied)
    assert all(o.sequences == () for o in result.outcomes if not o.applied)


@given(start_states(bundles=True), BUNDLE_STREAM, s.reservation_policies)
@settings(max_examples=200, deadline=None)
def test_bundle_versions_bump_once_per_component_event(
    state: LedgerState, events: list[LedgerEvent], policy: ReservationPolicy
) -> None:
    result = post(state, events, policy)
    count = dict.fromkeys((A, B, C, KIT, KIT2), 0)
    for r in result.recorded:
        assert r.event.sku not in BUNDLES
        count[r.event.sku] += 1
        for bundle in CONTAINING.get(r.event.sku, ()):
            count[bundle] += 1
    for sku, n in count.items():
        assert result.versions.get(sku, state.versions.get(sku, 0)) == (
            state.versions.get(sku, 0) + n
        )
    # sequences of component events still have no gaps
    for sku in (A, B, C):
        seqs = [r.sequence for r in result.recorded if r.event.sku == sku]
        start = state.versions.get(sku, 0)
        assert seqs == list(range(start + 1, start + len(seqs) + 1))
    # a bundle order records one event per component, each tagged with the bundle
    for e, o in zip(events, result.outcomes, strict=True):
        if o.applied and e.sku in BUNDLES:
            assert len(o.sequences) == len(BUNDLES[e.sku].components)
        elif o.applied:
            assert len(o.sequences) == 1


@given(
    start_states(bundles=True),
    s.streams(skus=(A, B)),
    s.stream_event(ORDER_KINDS, (KIT, KIT2)),
    s.reservation_policies,
)
@settings(max_examples=200, deadline=None)
def test_bundle_order_applies_to_all_components_or_none(
    state: LedgerState,
    prefix: list[LedgerEvent],
    order: LedgerEvent,
    policy: ReservationPolicy,
) -> None:
    state = advance(state, post(state, prefix, BACKORDER))  # any mix of stock, even oversold
    result = post(state, [order], policy)
    (outcome,) = result.outcomes
    components = BUNDLES[order.sku].components
    loc = order.location

    def before(sku: Sku) -> Balance:
        return state.balances.get(sku, {}).get(loc, ZERO)

    parts = [replace(order, sku=c.sku, quantity=order.quantity * c.quantity) for c in components]
    # rejected exactly when some component's own check fails
    short = [p for p in parts if model_check(before(p.sku), p, policy) is not None]
    if outcome.applied:
        assert short == []
        assert [r.event for r in result.recorded] == parts
        assert [r.bundle for r in result.recorded] == [order.sku] * len(parts)
        assert outcome.sequences == tuple(r.sequence for r in result.recorded)
        for part in parts:
            assert result.balances[part.sku][loc] == model_apply(before(part.sku), part)
    else:
        assert short != []
        assert outcome.rejection is not None
        assert outcome.rejection.code == model_check(before(short[0].sku), short[0], policy)
        assert (result.balances, result.recorded, result.versions) == ({}, [], {})


@pytest.mark.parametrize("kind", ["received", "adjusted", "counted"])
def test_derived_stock_rejected_in_a_mixed_batch(kind: str) -> None:
    events = [ev("received", A, 5), ev(kind, KIT, 1), ev("reserved", KIT, 1)]
    result = post(WITH_BUNDLES, events, REJECT)
    codes = [o.rejection.code if o.rejection else None for o in result.outcomes]
    assert codes == [None, RejectionCode.DERIVED_STOCK, RejectionCode.INSUFFICIENT_STOCK]


def test_event_types_cover_the_enum() -> None:
    assert {ev(k, A, 1).type for k in (*NO_COUNTS, "counted")} == set(EventType)


def test_all_or_nothing_keeps_a_fully_applied_posting() -> None:
    result = post(EMPTY, [ev("received", A, 3), ev("reserved", A, 2)], REJECT)
    assert all_or_nothing(result) is result


def test_all_or_nothing_applies_none_when_one_is_rejected() -> None:
    result = post(EMPTY, [ev("received", A, 3), ev("reserved", A, 5)], REJECT)
    atomic = all_or_nothing(result)
    assert atomic.recorded == []
    assert atomic.balances == {}
    assert atomic.versions == {}
    codes = [o.rejection.code for o in atomic.outcomes if o.rejection is not None]
    assert codes == [RejectionCode.GROUP_REJECTED, RejectionCode.INSUFFICIENT_STOCK]
