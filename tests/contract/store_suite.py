"""EventStoreContract: what every ledger store guarantees, run on SQLite and PostgreSQL.

Subclasses provide `store_url`; everything else is shared."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.balance import Balance, RejectionCode, ReservationPolicy
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.errors import (
    ConcurrencyConflictError,
    IdempotencyConflictError,
    InvalidInputError,
    UnknownEntityError,
)
from omnistock.domain.events import LedgerEvent
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.domain.planning import Priority
from omnistock.ledger.journal import MAX_BATCH, check_events
from omnistock.ledger.store import Store
from tests.contract.builders import (
    WH,
    adjusted,
    counted,
    desired,
    fulfilled,
    received,
    released,
    reserved,
    returned,
    seed,
)
from tests.contract.hammer import SKUS, hammer
from tests.contract.store_backed import StoreBacked


class EventStoreContract(StoreBacked):
    async def test_catalog_round_trip(self, store: Store) -> None:
        await seed(store, ["A", "B"], policy=AllocationPolicy(safety_buffer=2, share=0.5))
        await store.catalog.put_location(Location(id=LocationId("wh2"), name="Second"))
        assert [loc.id for loc in await store.catalog.locations()] == ["wh1", "wh2"]
        assert [i.sku for i in await store.catalog.items()] == ["A", "B"]
        [account] = await store.catalog.accounts()
        assert account.policy == AllocationPolicy(safety_buffer=2, share=0.5)
        listings = await store.catalog.listings(AccountId("shop"))
        assert [x.id for x in listings] == ["shop:A", "shop:B"]

    async def test_append_updates_balances_sequences_and_desired(self, store: Store) -> None:
        await seed(store, ["A", "B"])
        results = await store.ledger.append(
            [received("A", 10), received("B", 4), reserved("A", 3), fulfilled("A", 1)]
        )
        assert [r.sequences for r in results] == [(1,), (1,), (2,), (3,)]
        assert all(r.applied and not r.duplicate for r in results)
        balances = await store.ledger.balances([Sku("A"), Sku("B")])
        assert balances == {"A": {"wh1": Balance(9, 2)}, "B": {"wh1": Balance(4, 0)}}
        assert await desired(store, "A") == 7
        assert await desired(store, "B") == 4

    async def test_every_event_type_applies_its_rule(self, store: Store) -> None:
        await seed(store, ["A"])
        await store.ledger.append(
            [
                received("A", 10),
                adjusted("A", -2),
                reserved("A", 5),
                released("A", 1),
                fulfilled("A", 2),
                returned("A", 1, restock=True),
                returned("A", 1, restock=False),
            ]
        )
        assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(7, 2)}}
        await store.ledger.append([counted("A", 4)])
        assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(4, 2)}}

    async def test_duplicate_key_returns_the_original_result(self, store: Store) -> None:
        await seed(store, ["A"])
        first = await store.ledger.append([received("A", 5, k="po-1")])
        again = await store.ledger.append([received("A", 5, k="po-1")])
        assert again == [dataclasses.replace(first[0], duplicate=True)]
        assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(5, 0)}}
        assert len(await store.ledger.read()) == 1

    async def test_duplicate_inside_one_batch_applies_once(self, store: Store) -> None:
        await seed(store, ["A"])
        results = await store.ledger.append([received("A", 5, k="x"), received("A", 5, k="x")])
        assert [r.duplicate for r in results] == [False, True]
        assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(5, 0)}}

    async def test_checked_events_append_as_events_do(self, store: Store) -> None:
        await seed(store, ["A"])
        batch: list[LedgerEvent] = [
            received("A", 5, k="po-1"),
            reserved("A", 9, k="o-1"),
            received("A", 5, k="po-1"),
        ]
        results = await store.ledger.append_checked(check_events(batch))
        assert [(r.applied, r.duplicate) for r in results] == [
            (True, False),
            (False, False),
            (True, True),
        ]
        assert results[1].rejection is not None
        assert await store.ledger.append(batch) == [replace(r, duplicate=True) for r in results]
        with pytest.raises(IdempotencyConflictError):
            await store.ledger.append_checked(check_events([received("A", 6, k="po-1")]))
        assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(5, 0)}}

    async def test_checked_batches_are_capped_too(self, store: Store) -> None:
        await seed(store, ["A"])
        one = check_events([received("A", 1, k="k")])
        with pytest.raises(InvalidInputError, match="at most"):
            await store.ledger.append_checked(one * (MAX_BATCH + 1))
        assert await store.ledger.read() == []

    async def test_rejection_is_remembered_for_retries(self, store: Store) -> None:
        await seed(store, ["A"])
        [first] = await store.ledger.append([reserved("A", 1, k="order-9")])
        assert first.rejection is not None
        assert first.rejection.code is RejectionCode.INSUFFICIENT_STOCK
        await store.ledger.append([received("A", 5)])
        [again] = await store.ledger.append([reserved("A", 1, k="order-9")])
        assert again.duplicate
        assert again.rejection == first.rejection

    async def test_same_key_other_payload_is_an_error_and_writes_nothing(
        self, store: Store
    ) -> None:
        await seed(store, ["A"])
        await store.ledger.append([received("A", 5, k="po-1")])
        with pytest.raises(IdempotencyConflictError):
            await store.ledger.append([received("A", 1), received("A", 6, k="po-1")])
        with pytest.raises(IdempotencyConflictError):
            await store.ledger.append([received("A", 1, k="y"), received("A", 2, k="y")])
        assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(5, 0)}}

    @pytest.mark.parametrize(
        ("bad", "error", "field"),
        [
            (lambda: received("NOPE", 1), UnknownEntityError, None),
            (lambda: received("A", 1, loc="nowhere"), UnknownEntityError, None),
            (lambda: received("A", 0), InvalidInputError, "events[1].quantity"),
            (lambda: received("A", 2**31), InvalidInputError, "events[1].quantity"),
            (lambda: received("A", 1, k=""), InvalidInputError, "events[1].idempotency_key"),
            (lambda: received("A", 1, k="x" * 300), InvalidInputError, "events[1].idempotency_key"),
            (lambda: adjusted("A", 0), InvalidInputError, "events[1].quantity"),
        ],
    )
    async def test_bad_input_is_named_and_nothing_is_written(
        self, store: Store, bad: object, error: type[Exception], field: str | None
    ) -> None:
        await seed(store, ["A"])
        make = bad if callable(bad) else None
        assert make is not None
        with pytest.raises(error) as caught:
            await store.ledger.append([received("A", 3), make()])
        if field is not None:
            assert isinstance(caught.value, InvalidInputError)
            assert caught.value.field == field
        assert await store.ledger.balances([Sku("A")]) == {}
        assert await store.ledger.read() == []

    async def test_stale_expected_version_conflicts(self, store: Store) -> None:
        await seed(store, ["A"])
        versions = await store.ledger.versions([Sku("A")])
        await store.ledger.append([received("A", 1)], expected_versions=versions)
        with pytest.raises(ConcurrencyConflictError):
            await store.ledger.append([received("A", 1)], expected_versions=versions)
        assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(1, 0)}}

    async def test_backorder_policy_accepts_uncovered_reservations(self, store_url: str) -> None:
        store = await Store.open(store_url, policy=ReservationPolicy.BACKORDER)
        try:
            await seed(store, ["A"])
            [result] = await store.ledger.append([reserved("A", 3)])
            assert result.applied
            assert await store.ledger.balances([Sku("A")]) == {"A": {"wh1": Balance(0, 3)}}
            assert await desired(store, "A") == 0
        finally:
            await store.close()

    async def test_bundle_reserves_components_and_listings_follow(self, store: Store) -> None:
        await seed(store, ["A", "B", "KIT"])
        kit = Bundle(Sku("KIT"), (BundleComponent(Sku("A"), 2), BundleComponent(Sku("B"), 1)))
        await store.catalog.put_bundle(kit)
        await store.ledger.append([received("A", 9), received("B", 3)])
        assert await desired(store, "KIT") == 3
        [result] = await store.ledger.append([reserved("KIT", 2)])
        assert result.sequences == (2, 2)
        balances = await store.ledger.balances([Sku("A"), Sku("B")])
        assert balances == {"A": {"wh1": Balance(9, 4)}, "B": {"wh1": Balance(3, 2)}}
        assert (await desired(store, "KIT"), await desired(store, "A")) == (1, 5)
        [short] = await store.ledger.append([reserved("KIT", 2)])
        assert short.rejection is not None
        assert await store.ledger.balances([Sku("B")]) == {"B": {"wh1": Balance(3, 2)}}
        [derived] = await store.ledger.append([received("KIT", 1)])
        assert derived.rejection is not None
        assert derived.rejection.code is RejectionCode.DERIVED_STOCK

    async def test_bad_bundles_are_refused(self, store: Store) -> None:
        await seed(store, ["A", "B", "K1", "K2"])
        await store.catalog.put_bundle(Bundle(Sku("K1"), (BundleComponent(Sku("A"), 1),)))
        with pytest.raises(InvalidInputError, match="nested"):
            await store.catalog.put_bundle(Bundle(Sku("K2"), (BundleComponent(Sku("K1"), 1),)))
        with pytest.raises(UnknownEntityError):
            await store.catalog.put_bundle(Bundle(Sku("K2"), (BundleComponent(Sku("Z"), 1),)))
        await store.ledger.append([received("B", 1)])
        with pytest.raises(InvalidInputError, match="stock of its own"):
            await store.catalog.put_bundle(Bundle(Sku("B"), (BundleComponent(Sku("A"), 1),)))

    async def test_policy_changes_replan_listings(self, store: Store) -> None:
        await seed(store, ["A"])
        await store.ledger.append([received("A", 10)])
        assert await desired(store, "A") == 10
        shop = ChannelAccount(
            id=AccountId("shop"), platform="woocommerce", policy=AllocationPolicy(share=0.5)
        )
        await store.catalog.put_account(shop)
        assert await desired(store, "A") == 5
        override = PolicyOverride(max_shown=2)
        listing = Listing(id=ListingId("shop:A"), account=shop.id, sku=Sku("A"), override=override)
        await store.catalog.put_listings([listing])
        assert await desired(store, "A") == 2
        [stored] = await store.catalog.listings()
        assert stored.override == override

    async def test_listing_for_unknown_account_or_sku_is_refused(self, store: Store) -> None:
        await seed(store, ["A"])
        bad = Listing(id=ListingId("x"), account=AccountId("nope"), sku=Sku("A"))
        with pytest.raises(UnknownEntityError, match="account"):
            await store.catalog.put_listings([bad])
        with pytest.raises(InvalidInputError, match=r"listing\.id"):
            await store.catalog.put_listings([dataclasses.replace(bad, id=ListingId(" x"))])

    async def test_dirty_listings_most_urgent_first(self, store: Store) -> None:
        await seed(store, ["A", "B", "C"])
        await store.ledger.append([received("A", 50), received("B", 2)])
        dirty = await store.sync.dirty(AccountId("shop"))
        assert [(s.listing, s.priority) for s in dirty] == [
            ("shop:C", Priority.OUT_OF_STOCK),
            ("shop:B", Priority.LOW_STOCK),
            ("shop:A", Priority.INCREASE),
        ]

    async def test_read_returns_the_log_in_order(self, store: Store) -> None:
        await seed(store, ["A"])
        events: list[LedgerEvent] = [
            received("A", 3),
            reserved("A", 1),
            returned("A", 1, restock=False),
        ]
        await store.ledger.append(events)
        stored = await store.ledger.read()
        assert [s.event for s in stored] == events
        assert [s.sequence for s in stored] == [1, 2, 3]
        assert stored[0].position < stored[1].position < stored[2].position
        assert await store.ledger.read(after=stored[1].position) == stored[2:]

    async def test_verify_matches_then_detects_tampering(self, store: Store) -> None:
        await seed(store, ["A", "B", "KIT"])
        kit = Bundle(Sku("KIT"), (BundleComponent(Sku("A"), 1), BundleComponent(Sku("B"), 1)))
        await store.catalog.put_bundle(kit)
        await store.ledger.append([received("A", 5), received("B", 5), reserved("KIT", 2)])
        report = await store.verify()
        assert report.ok, report.mismatches
        assert report.events == 3 + 1  # the bundle reservation is one event per component
        await asyncio.sleep(0)
        raw = store._db  # tampering needs the raw connection on purpose
        await store._worker.call(raw.run, "UPDATE balances SET on_hand = 99 WHERE sku = 'A'")
        report = await store.verify()
        assert not report.ok
        assert any("balance A@wh1" in m for m in report.mismatches)

    async def test_unknown_sku_in_catalog_items_validation(self, store: Store) -> None:
        with pytest.raises(InvalidInputError, match=r"item\.sku"):
            await store.catalog.put_items([Item(sku=Sku("bad\nsku"))])
        assert await store.catalog.items() == []

    async def test_reopen_keeps_everything(self, store_url: str) -> None:
        first = await Store.open(store_url)
        await seed(first, ["A"])
        await first.ledger.append([received("A", 4)])
        await first.close()
        second = await Store.open(store_url)
        try:
            assert await second.ledger.balances([Sku("A")]) == {"A": {WH: Balance(4, 0)}}
        finally:
            await second.close()

    async def test_concurrent_writers_lose_no_update(self, store: Store, store_url: str) -> None:
        await seed(store, SKUS)
        with ThreadPoolExecutor(4) as pool:
            runs = list(pool.map(hammer, [store_url] * 4, range(4), [25] * 4))
        await assert_balances_match(store, [e for run in runs for e in run])

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(schedule=st.lists(st.integers(0, 2), min_size=1, max_size=40))
    def test_interleaved_read_decide_write_never_loses_an_update(
        self, store_url: str, schedule: list[int]
    ) -> None:
        """Writers that read, decide and append with expected versions, interleaved in any
        order: stale writers get a conflict and re-read; nothing is lost or oversold."""
        asyncio.run(_interleaving_case(store_url, schedule))

    @settings(
        max_examples=15,
        deadline=None,
        # Each store subclass runs this method: one executor per backend, on purpose.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        ops=st.lists(
            st.tuples(
                st.sampled_from(["recv", "resv", "rel", "ful", "adj", "cnt", "ret", "dup"]),
                st.sampled_from(["A", "B", "KIT"]),
                st.integers(1, 6),
            ),
            min_size=1,
            max_size=30,
        ),
        cut=st.integers(1, 8),
    )
    def test_replaying_the_log_gives_the_live_projection(
        self, store_url: str, ops: list[tuple[str, str, int]], cut: int
    ) -> None:
        asyncio.run(_replay_case(store_url, ops, cut))


async def assert_balances_match(store: Store, applied: list[tuple[str, str, int]]) -> None:
    balances = await store.ledger.balances([Sku(s) for s in SKUS])
    for sku in SKUS:
        on_hand = sum(q for t, s, q in applied if s == sku and t == "received")
        held = sum(q for t, s, q in applied if s == sku and t == "reserved")
        held -= sum(q for t, s, q in applied if s == sku and t == "released")
        assert balances.get(Sku(sku), {}).get(WH, Balance()) == Balance(on_hand, held)
        assert held <= on_hand
    report = await store.verify()
    assert report.ok, report.mismatches


_STEPS: dict[str, Callable[[str, int], LedgerEvent]] = {
    "recv": lambda s, q: received(s, q),
    "resv": lambda s, q: reserved(s, q),
    "rel": lambda s, q: released(s, q),
    "ful": lambda s, q: fulfilled(s, q),
    "adj": lambda s, q: adjusted(s, q - 3 or 1),
    "cnt": lambda s, q: counted(s, q),
    "ret": lambda s, q: returned(s, q, restock=q % 2 == 0),
}


async def _replay_case(url: str, ops: list[tuple[str, str, int]], cut: int) -> None:
    store = await Store.open(url)
    try:
        prefix = f"p{id(ops)}-{len(await store.catalog.items())}-"
        await seed(store, [prefix + s for s in ("A", "B", "KIT")])
        parts = (BundleComponent(Sku(prefix + "A"), 2), BundleComponent(Sku(prefix + "B"), 1))
        await store.catalog.put_bundle(Bundle(Sku(prefix + "KIT"), parts))
        events: list[LedgerEvent] = []
        for kind, sku, qty in ops:
            if kind == "dup" and events:
                events.append(events[qty % len(events)])
            elif kind != "dup":
                events.append(_STEPS[kind](prefix + sku, qty))
        first = []
        for start in range(0, len(events), cut):
            first += await store.ledger.append(events[start : start + cut])
        plain = [Sku(prefix + s) for s in ("A", "B")]
        before = await store.ledger.balances(plain)
        again = await store.ledger.append(events)
        assert [r.duplicate for r in again] == [True] * len(events)
        assert [dataclasses.replace(r, duplicate=True) for r in first] == again
        assert await store.ledger.balances(plain) == before
        for at in before.values():
            for balance in at.values():
                assert balance.on_hand >= 0
        report = await store.verify()
        assert report.ok, report.mismatches
    finally:
        await store.close()


async def _interleaving_case(url: str, schedule: list[int]) -> None:
    store = await Store.open(url)
    try:
        sku = f"I{id(schedule)}-{len(await store.catalog.items())}"
        await seed(store, [sku])
        await store.ledger.append([received(sku, 5)])
        pending: dict[int, tuple[dict[Sku, int], int] | None] = {0: None, 1: None, 2: None}
        applied = 0
        for writer in schedule:
            if pending[writer] is None:  # read: the version and what is available
                versions = await store.ledger.versions([Sku(sku)])
                available = (await store.ledger.balances([Sku(sku)]))[Sku(sku)][WH].available
                pending[writer] = (versions, available)
                continue
            versions, available = pending[writer]  # type: ignore[misc]
            pending[writer] = None
            if available < 1:
                continue
            try:  # decide on what was read: reserve one unit
                await store.ledger.append([reserved(sku, 1)], expected_versions=versions)
                applied += 1
            except ConcurrencyConflictError:
                continue  # a stale writer: its next turn re-reads
        balance = (await store.ledger.balances([Sku(sku)]))[Sku(sku)][WH]
        assert balance.reserved == applied
        assert balance.reserved <= balance.on_hand == 5
        assert (await store.verify()).ok
    finally:
        await store.close()
