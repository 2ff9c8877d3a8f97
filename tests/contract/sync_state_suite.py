"""SyncStateContract: what the listing sync state guarantees to dispatchers and
reconciliation, run on SQLite and PostgreSQL. Subclasses provide `store_url`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.errors import UnknownEntityError
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.domain.planning import Priority
from omnistock.ledger.store import Store
from omnistock.ledger.sync_state import MAX_ERROR_LENGTH, PushOutcome, PushStatus
from tests.contract.builders import T0, WH, counted, received
from tests.contract.store_backed import StoreBacked

SHOP = AccountId("shop")


async def seed_listings(store: Store, skus: list[str]) -> None:
    """Location wh1, the SKUs, account `shop`, and listing `shop:SKU` (product id = index)."""
    await store.catalog.put_location(Location(id=WH, name="Main"))
    await store.catalog.put_items([Item(sku=Sku(s)) for s in skus])
    await store.catalog.put_account(ChannelAccount(id=SHOP, platform="woocommerce"))
    await store.catalog.put_listings(
        [
            Listing(
                id=ListingId(f"shop:{s}"),
                account=SHOP,
                sku=Sku(s),
                external_ids={"product_id": str(n)},
            )
            for n, s in enumerate(skus, start=1)
        ]
    )


def ok(listing: str, quantity: int, sequence: int = 1) -> PushOutcome:
    return PushOutcome(
        listing=ListingId(listing),
        quantity=quantity,
        sequence=sequence,
        status=PushStatus.SUCCEEDED,
    )


def failed(listing: str, error: str, after: timedelta, *, permanent: bool = False) -> PushOutcome:
    return PushOutcome(
        listing=ListingId(listing),
        quantity=0,
        sequence=0,
        status=PushStatus.PERMANENT if permanent else PushStatus.RETRYABLE,
        error=error,
        retry_at=T0 + after,
    )


async def due_ids(store: Store, after: timedelta = timedelta(0)) -> list[str]:
    return [d.state.listing for d in await store.sync.due(SHOP, T0 + after)]


class SyncStateContract(StoreBacked):
    async def test_due_lists_dirty_listings_most_urgent_first_with_ids(self, store: Store) -> None:
        await seed_listings(store, ["A", "B", "C"])
        await store.ledger.append([received("A", 50), received("B", 2)])
        due = await store.sync.due(SHOP, T0)
        assert [(d.state.listing, d.state.priority) for d in due] == [
            ("shop:C", Priority.OUT_OF_STOCK),
            ("shop:B", Priority.LOW_STOCK),
            ("shop:A", Priority.INCREASE),
        ]
        assert [(d.sku, dict(d.external_ids)) for d in due][2] == ("A", {"product_id": "1"})
        assert [d.state.desired_qty for d in due] == [0, 2, 50]
        assert len(await store.sync.due(SHOP, T0, limit=2)) == 2

    async def test_success_cleans_and_a_new_change_dirties_again(self, store: Store) -> None:
        await seed_listings(store, ["A"])
        await store.ledger.append([received("A", 5)])
        await store.sync.record([ok("shop:A", 5, 1)])
        state = (await store.sync.get([ListingId("shop:A")]))[ListingId("shop:A")]
        assert (state.pushed_qty, state.pushed_seq, state.attempts) == (5, 1, 0)
        assert await due_ids(store) == []
        assert await store.sync.next_due(SHOP, T0) is None
        await store.ledger.append([received("A", 1)])
        assert await due_ids(store) == ["shop:A"]

    async def test_desired_that_moved_during_the_push_stays_dirty(self, store: Store) -> None:
        await seed_listings(store, ["A"])
        await store.ledger.append([received("A", 5)])
        [planned] = await store.sync.due(SHOP, T0)
        await store.ledger.append([counted("A", 3)])  # while the push of 5 is in flight
        await store.sync.record([ok("shop:A", planned.state.desired_qty, 1)])
        [again] = await store.sync.due(SHOP, T0)
        assert (again.state.pushed_qty, again.state.desired_qty) == (5, 3)

    async def test_failure_counts_schedules_and_keeps_the_error(self, store: Store) -> None:
        await seed_listings(store, ["A", "B"])
        await store.sync.record([failed("shop:A", "HTTP 503\nbusy", timedelta(seconds=30))])
        state = (await store.sync.get([ListingId("shop:A")]))[ListingId("shop:A")]
        assert (state.attempts, state.last_error) == (1, "HTTP 503 busy")
        assert state.next_attempt_at == T0 + timedelta(seconds=30)
        assert await due_ids(store) == ["shop:B"]
        assert await due_ids(store, timedelta(seconds=30)) == ["shop:A", "shop:B"]
        assert await store.sync.next_due(SHOP, T0 - timedelta(hours=1)) == T0 - timedelta(hours=1)

    async def test_next_due_is_the_earliest_retry_when_nothing_is_due(self, store: Store) -> None:
        await seed_listings(store, ["A", "B"])
        await store.sync.record(
            [
                failed("shop:A", "busy", timedelta(seconds=30)),
                failed("shop:B", "busy", timedelta(seconds=10)),
            ]
        )
        assert await store.sync.next_due(SHOP, T0) == T0 + timedelta(seconds=10)

    async def test_a_permanent_failure_stays_dirty_visible_and_comes_back(
        self, store: Store
    ) -> None:
        await seed_listings(store, ["A"])
        await store.sync.record(
            [failed("shop:A", "y" * 900, timedelta(minutes=15), permanent=True)]
        )
        [state] = await store.sync.dirty(SHOP)
        assert state.last_error is not None
        assert len(state.last_error) == MAX_ERROR_LENGTH
        assert await due_ids(store, timedelta(minutes=14)) == []
        assert await due_ids(store, timedelta(minutes=15)) == ["shop:A"]

    async def test_one_record_applies_a_large_mixed_batch(self, store: Store) -> None:
        skus = [f"S{n:03d}" for n in range(300)]
        await seed_listings(store, skus)
        outcomes = [
            ok(f"shop:{s}", 0) if n % 3 else failed(f"shop:{s}", "busy", timedelta(seconds=5))
            for n, s in enumerate(skus)
        ]
        await store.sync.record(outcomes)
        assert len(await store.sync.dirty(SHOP)) == 100
        assert await due_ids(store) == []
        assert len(await due_ids(store, timedelta(seconds=5))) == 100

    async def test_observed_drift_dirties_and_is_listed_until_overwritten(
        self, store: Store
    ) -> None:
        await seed_listings(store, ["A", "B"])
        await store.ledger.append([received("A", 5), received("B", 5)])
        await store.sync.record([ok("shop:A", 5), ok("shop:B", 5)])
        assert not await store.sync.observed(ListingId("shop:A"), 5)
        assert await store.sync.observed(ListingId("shop:A"), 9)  # edited in the admin
        [drifted] = await store.sync.drift(SHOP)
        assert (drifted.listing, drifted.pushed_qty, drifted.pushed_seq) == ("shop:A", 9, None)
        assert drifted.last_error is not None
        assert "9" in drifted.last_error
        assert await due_ids(store) == ["shop:A"]
        await store.sync.record([ok("shop:A", 5, 1)])
        assert await store.sync.drift(SHOP) == []
        assert await due_ids(store) == []

    async def test_observed_desired_quantity_keeps_a_pending_push(self, store: Store) -> None:
        # The report may predate the push still pending: the push must still go out.
        await seed_listings(store, ["A"])
        await store.ledger.append([received("A", 5)])
        await store.sync.record([ok("shop:A", 4)])  # pushed before the last change
        assert not await store.sync.observed(ListingId("shop:A"), 5)
        assert await due_ids(store) == ["shop:A"]
        assert await store.sync.drift(SHOP) == []
        # ...comparing against the level reported (a compare-and-set would refuse 4).
        state = (await store.sync.get([ListingId("shop:A")]))[ListingId("shop:A")]
        assert (state.pushed_qty, state.pushed_seq) == (5, 1)
        assert not await store.sync.observed(ListingId("shop:A"), 5)  # again: no change
        assert await due_ids(store) == ["shop:A"]
        with pytest.raises(UnknownEntityError, match="listing"):
            await store.sync.observed(ListingId("shop:nope"), 1)

    async def test_observed_many_records_exactly_the_drift_of_a_page(self, store: Store) -> None:
        await seed_listings(store, ["A", "B", "C", "D"])
        await store.ledger.append([received(s, 5) for s in "ABCD"])
        await store.sync.record([ok(f"shop:{s}", 5) for s in "ABC"] + [ok("shop:D", 4)])
        levels = [
            (ListingId("shop:A"), 5),  # as pushed
            (ListingId("shop:B"), 9),  # edited in the admin
            (ListingId("shop:C"), 0),  # edited too
            (ListingId("shop:D"), 5),  # the desired quantity: the pending push stays due
            (ListingId("shop:nope"), 1),  # no such listing: skipped
        ]
        assert await store.sync.observed_many(levels) == 2
        drift = {d.listing: (d.pushed_qty, d.pushed_seq) for d in await store.sync.drift(SHOP)}
        assert drift == {"shop:B": (9, None), "shop:C": (0, None)}
        [b] = [d for d in await store.sync.drift(SHOP) if d.listing == "shop:B"]
        assert b.last_error == "drift: the channel showed 9 where omnistock had pushed 5"
        assert await due_ids(store) == ["shop:B", "shop:C", "shop:D"]
        d = (await store.sync.get([ListingId("shop:D")]))[ListingId("shop:D")]
        assert (d.pushed_qty, d.last_error) == (5, None)
        assert await store.sync.observed_many([]) == 0

    async def test_what_the_channel_says_it_shows_becomes_the_pushed_state(
        self, store: Store
    ) -> None:
        await seed_listings(store, ["A", "B"])
        await store.ledger.append([received("A", 5), received("B", 5)])
        await store.sync.record([ok("shop:A", 5), ok("shop:B", 3)])
        # A refused the write and shows 4 (a sale there); B already shows the desired 5.
        await store.sync.channel_shows([(ListingId("shop:A"), 4), (ListingId("shop:B"), 5)])
        states = await store.sync.get([ListingId("shop:A"), ListingId("shop:B")])
        assert (states[ListingId("shop:A")].pushed_qty, states[ListingId("shop:A")].dirty) == (
            4,
            True,
        )
        assert (states[ListingId("shop:B")].pushed_qty, states[ListingId("shop:B")].dirty) == (
            5,
            False,
        )
        assert await due_ids(store) == ["shop:A"]

    async def test_a_sale_on_the_channel_lowers_the_level_its_next_write_expects(
        self, store: Store
    ) -> None:
        await seed_listings(store, ["A", "B", "C", "D"])
        await store.ledger.append([received(s, 5) for s in "ABCD"])
        await store.sync.record([ok("shop:A", 5), ok("shop:B", 5), ok("shop:D", 5)])
        # D is listed twice on the account: which listing sold is not known.
        twin = Listing(id=ListingId("shop:D2"), account=SHOP, sku=Sku("D"), external_ids={})
        await store.catalog.put_listings([twin])
        sold = {(SHOP, Sku("A")): 2, (SHOP, Sku("C")): 1, (SHOP, Sku("D")): 1}
        sold[(AccountId("other"), Sku("B"))] = 1
        due = await due_ids(store)
        # C was never pushed: nothing to compare against.
        assert await store.sync.sold_on_channel(sold) == 1
        ids = [ListingId(f"shop:{s}") for s in ("A", "B", "C", "D")]
        states = await store.sync.get(ids)
        assert [states[i].pushed_qty for i in ids] == [3, 5, None, 5]
        # A is due: only a write settles whether its level had counted the sale already.
        assert await due_ids(store) == sorted({*due, "shop:A"})
        assert await store.sync.sold_on_channel({}) == 0

    async def test_of_skus_finds_the_accounts_listings_of_those_skus(self, store: Store) -> None:
        await seed_listings(store, ["A", "B", "C"])
        found = await store.sync.of_skus(SHOP, [Sku("C"), Sku("A"), Sku("Z")])
        assert [(d.state.listing, d.sku) for d in found] == [("shop:A", "A"), ("shop:C", "C")]
        assert found[1].external_ids == {"product_id": "3"}
        assert await store.sync.of_skus(AccountId("other"), [Sku("A")]) == []

    async def test_resync_makes_every_listing_due_and_listed_pages(self, store: Store) -> None:
        await seed_listings(store, ["A", "B", "C"])
        await store.ledger.append([received("A", 5)])
        await store.sync.record(
            [ok("shop:A", 5), ok("shop:B", 0), failed("shop:C", "busy", timedelta(hours=1))]
        )
        assert await due_ids(store) == []
        assert await store.sync.resync(SHOP) == 3
        assert sorted(await due_ids(store)) == ["shop:A", "shop:B", "shop:C"]
        first = await store.sync.listed(SHOP, limit=2)
        rest = await store.sync.listed(SHOP, first[-1].state.listing)
        assert [d.state.listing for d in first + rest] == ["shop:A", "shop:B", "shop:C"]
        assert [d.state.desired_qty for d in first + rest] == [5, 0, 0]
        slim = await store.sync.listed_slim(SHOP, limit=2)
        slim += await store.sync.listed_slim(SHOP, slim[-1].listing)
        assert [(r.listing, r.sku, r.desired_qty, r.pushed_qty) for r in slim] == [
            ("shop:A", "A", 5, 5),
            ("shop:B", "B", 0, 0),
            ("shop:C", "C", 0, None),
        ]
        assert [(r.desired_seq, r.external_ids) for r in slim] == [
            (d.state.desired_seq, d.external_ids) for d in first + rest
        ]
        assert await store.sync.listed_slim(AccountId("other")) == []
