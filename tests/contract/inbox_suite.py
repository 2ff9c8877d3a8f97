"""InboxContract: what the durable inbox (and ingestion's records) guarantee, run on SQLite and
PostgreSQL. Subclasses provide `store_url`; everything else is shared."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from omnistock.bus.inbox import (
    DEFAULT_MAX_ATTEMPTS,
    MAX_ROUNDS,
    Inbox,
    InboxCounts,
    InboxKind,
    InboxMessage,
    Incident,
    IncidentKind,
    KnownKeys,
    Step,
)
from omnistock.domain.balance import RejectionCode
from omnistock.domain.errors import DomainError, InvalidInputError
from omnistock.domain.ids import AccountId, Sku
from omnistock.ledger.notifications import Feed, Topic
from omnistock.ledger.store import Store
from tests.contract.builders import WH, received, reserved, seed
from tests.contract.store_backed import StoreBacked

HOUR = 3600.0


def message(key: str, payload: str = '{"n": 1}') -> InboxMessage:
    return InboxMessage(
        kind=InboxKind.CHANNEL_EVENT, account=AccountId("shop"), dedupe_key=key, payload=payload
    )


async def record(inbox: Inbox, incidents: Sequence[Incident]) -> list[bool]:
    """Record incidents as a settlement does: a final step with nothing else to write."""
    return (await inbox.settle((), lambda _: Step(final=True, incidents=incidents))).fresh


async def mark(inbox: Inbox, keys: Sequence[str]) -> None:
    await inbox.settle((), lambda _: Step(final=True, marks=keys))


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


class InboxContract(StoreBacked):
    """An implementation joins by overriding `inbox` (it settles into `store`'s ledger); the
    tests that reopen the database by URL are the embedded form's durability."""

    @pytest.fixture
    def inbox(self, store: Store) -> Inbox:
        return store.inbox  # checked by mypy: the embedded inbox satisfies the port

    async def test_items_come_out_oldest_first_with_what_went_in(
        self, store: Store, inbox: Inbox
    ) -> None:
        before = datetime.now(UTC)
        assert await inbox.put([message("a", '{"x": "é"}'), message("b")]) == [True, True]
        assert await inbox.put([message("c")]) == [True]
        items = await inbox.take(10)
        assert [i.dedupe_key for i in items] == ["a", "b", "c"]
        first = items[0]
        assert (first.kind, first.account, first.payload) == (
            InboxKind.CHANNEL_EVENT,
            "shop",
            '{"x": "é"}',
        )
        assert first.attempts == 1
        assert first.last_error is None
        assert before - timedelta(seconds=1) <= first.received_at <= datetime.now(UTC)
        assert items[0].id < items[1].id < items[2].id

    async def test_take_respects_the_limit(self, store: Store, inbox: Inbox) -> None:
        await inbox.put([message(f"k{n}") for n in range(5)])
        assert [i.dedupe_key for i in await inbox.take(2, lease=HOUR)] == ["k0", "k1"]
        assert [i.dedupe_key for i in await inbox.take(10, lease=HOUR)] == ["k2", "k3", "k4"]

    async def test_a_dedupe_key_is_received_once(self, store: Store, inbox: Inbox) -> None:
        assert await inbox.put([message("a"), message("a"), message("b")]) == [
            True,
            False,
            True,
        ]
        assert await inbox.put([message("a", '{"other": 1}')]) == [False]
        items = await inbox.take(10)
        assert [(i.dedupe_key, i.payload) for i in items] == [("a", '{"n": 1}'), ("b", '{"n": 1}')]
        await inbox.ack([i.id for i in items])
        # Acknowledged messages are gone; their keys are still remembered.
        assert await inbox.put([message("a")]) == [False]
        assert await inbox.take(10) == []

    async def test_a_malformed_message_stores_nothing(self, store: Store, inbox: Inbox) -> None:
        with pytest.raises(InvalidInputError, match=r"messages\[1\]"):
            await inbox.put([message("ok"), message("")])
        with pytest.raises(InvalidInputError, match="payload"):
            await inbox.put([message("big", "x" * 1_000_001)])
        assert await inbox.counts() == InboxCounts(pending=0, parked=0)

    async def test_a_leased_item_is_not_delivered_twice_until_the_lease_ends(
        self, store: Store, inbox: Inbox
    ) -> None:
        await inbox.put([message("a")])
        (item,) = await inbox.take(10, lease=HOUR)
        assert await inbox.take(10, lease=HOUR) == []
        assert await inbox.counts() == InboxCounts(pending=1, parked=0)
        await inbox.ack([item.id])
        await inbox.ack([item.id])  # idempotent
        assert await inbox.counts() == InboxCounts(pending=0, parked=0)

    async def test_an_expired_lease_delivers_the_item_again(
        self, store: Store, inbox: Inbox
    ) -> None:
        await inbox.put([message("a")])
        (first,) = await inbox.take(10, lease=0.0)
        (again,) = await inbox.take(10, lease=HOUR)
        assert again.id == first.id
        assert again.attempts == 2

    async def test_nothing_is_lost_across_a_crash_and_reopen(self, store_url: str) -> None:
        store = await Store.open(store_url)
        await store.inbox.put([message("a"), message("b")])
        taken = await store.inbox.take(1, lease=0.0)  # then "crash": never acknowledged
        assert [i.dedupe_key for i in taken] == ["a"]
        await store.close()
        reopened = await Store.open(store_url)
        try:
            items = await reopened.inbox.take(10)
            assert [(i.dedupe_key, i.attempts) for i in items] == [("a", 2), ("b", 1)]
            assert await reopened.inbox.put([message("a")]) == [False]
        finally:
            await reopened.close()

    async def test_a_failed_item_waits_until_its_retry_time(
        self, store: Store, inbox: Inbox
    ) -> None:
        await inbox.put([message("a")])
        (item,) = await inbox.take(10)
        assert await inbox.fail(item.id, "ledger busy", later(HOUR)) is False
        assert await inbox.take(10) == []
        assert await inbox.counts() == InboxCounts(pending=1, parked=0)

    async def test_a_failed_item_comes_back_with_its_error(
        self, store: Store, inbox: Inbox
    ) -> None:
        await inbox.put([message("a")])
        (item,) = await inbox.take(10)
        await inbox.fail(item.id, "ledger busy", later(-1))
        (again,) = await inbox.take(10)
        assert (again.id, again.attempts, again.last_error) == (item.id, 2, "ledger busy")
        assert await inbox.fail(10**9, "gone", later(0)) is False  # unknown id

    async def test_an_item_failing_every_attempt_is_parked_never_dropped(
        self, store: Store, inbox: Inbox
    ) -> None:
        await inbox.put([message("poison")])
        parked = []
        for attempt in range(1, DEFAULT_MAX_ATTEMPTS + 1):
            (item,) = await inbox.take(10)
            assert item.attempts == attempt
            parked.append(await inbox.fail(item.id, f"bad payload {attempt}", later(-1)))
        assert parked == [False] * (DEFAULT_MAX_ATTEMPTS - 1) + [True]
        await inbox.put([message("fine")])
        assert [i.dedupe_key for i in await inbox.take(10)] == ["fine"]
        (kept,) = await inbox.parked()
        assert (kept.dedupe_key, kept.last_error) == ("poison", f"bad payload {attempt}")
        assert await inbox.counts() == InboxCounts(pending=1, parked=1)

    async def test_an_item_never_acknowledged_is_parked_after_its_attempts(
        self, store: Store, inbox: Inbox
    ) -> None:
        await inbox.put([message("crashes-the-worker")])
        for _ in range(DEFAULT_MAX_ATTEMPTS):
            assert len(await inbox.take(10, lease=0.0)) == 1
        assert await inbox.take(10) == []
        (kept,) = await inbox.parked()
        assert kept.last_error == f"not acknowledged after {DEFAULT_MAX_ATTEMPTS} deliveries"

    async def test_concurrent_takers_never_share_an_item(self, store_url: str) -> None:
        stores = [await Store.open(store_url) for _ in range(3)]
        try:
            await stores[0].inbox.put([message(f"k{n}") for n in range(60)])
            batches = await asyncio.gather(
                *(s.inbox.take(7, lease=HOUR) for s in stores for _ in range(4))
            )
            taken = [i.id for batch in batches for i in batch]
            assert len(taken) == len(set(taken)) == 60
        finally:
            for opened in stores:
                await opened.close()

    # --- ingestion's records ----------------------------------------------------------

    async def test_poll_cursors_are_kept_per_account(self, store_url: str) -> None:
        store = await Store.open(store_url)
        assert await store.inbox.cursor(AccountId("shop")) is None
        await store.inbox.save_cursor(AccountId("shop"), "c1")
        await store.inbox.save_cursor(AccountId("shop"), "c2")
        await store.inbox.save_cursor(AccountId("other"), "x")
        await store.close()
        store = await Store.open(store_url)
        try:
            assert await store.inbox.cursor(AccountId("shop")) == "c2"
        finally:
            await store.close()

    async def test_incidents_are_recorded_once_per_key(self, store: Store, inbox: Inbox) -> None:
        oversold = Incident(
            key="oversold:shop:1:1",
            kind=IncidentKind.OVERSOLD,
            account=AccountId("shop"),
            reason="requested 2, available 1",
            order_id="1",
            line_id="1",
            sku="A",
            location="wh1",
            quantity=2,
        )
        unmapped = Incident(
            key="unmapped:x", kind=IncidentKind.UNMAPPED_LINE, account=None, reason="no sku"
        )
        assert await record(inbox, [oversold, unmapped]) == [True, True]
        assert await record(inbox, [oversold]) == [False]
        found = await inbox.incidents()
        assert [i.key for i in found] == ["unmapped:x", "oversold:shop:1:1"]
        assert found[1].recorded_at is not None
        assert found[1] == dataclasses.replace(
            oversold, recorded_at=found[1].recorded_at, position=found[1].position
        )
        first, second = await inbox.incidents_after(0)
        assert [first.key, second.key] == ["oversold:shop:1:1", "unmapped:x"]
        assert first.position is not None
        assert [i.key for i in await inbox.incidents_after(first.position)] == ["unmapped:x"]
        assert len(await inbox.incidents_after(0, limit=1)) == 1

    async def test_a_feed_publishes_each_stretch_exactly_once(self, store: Store) -> None:
        feeds = store.notifications
        now = datetime(2026, 11, 28, tzinfo=UTC)
        fact = (Topic.STOCK_CHANGED, {"available": {"A": {"wh1": 1}}})
        assert await feeds.feed_position(Feed.STOCK) == 0
        assert await feeds.publish_feed(Feed.STOCK, 0, 7, [fact], now)
        # A second publisher that read the cursor before the first moved it publishes nothing.
        assert not await feeds.publish_feed(Feed.STOCK, 0, 7, [fact], now)
        assert await feeds.feed_position(Feed.STOCK) == 7
        assert await feeds.feed_position(Feed.INCIDENTS) == 0
        assert [n.topic for n in await feeds.after(0)] == [Topic.STOCK_CHANGED]
        with pytest.raises(ValueError, match="forward"):
            await feeds.publish_feed(Feed.STOCK, 7, 7, [fact], now)

    async def test_known_keys_report_outcomes_and_marks(self, store: Store, inbox: Inbox) -> None:
        await seed(store, ["A"])
        await store.ledger.append([received("A", 1, k="in"), reserved("A", 5, k="too-many")])
        await mark(inbox, ["line-closed", "line-closed"])
        known = await inbox.known(["in", "too-many", "line-closed", "never"])
        assert set(known) == {"in", "too-many", "line-closed"}
        assert known["in"] is None
        assert known["line-closed"] is None
        rejection = known["too-many"]
        assert rejection is not None
        assert rejection.code is RejectionCode.INSUFFICIENT_STOCK

    async def test_a_settlement_writes_events_marks_incidents_and_ack_together(
        self, store: Store, inbox: Inbox
    ) -> None:
        await seed(store, ["A"])
        await inbox.put([message("order-1")])
        (item,) = await inbox.take(10)
        oversold = Incident(key="oversold:1", kind=IncidentKind.OVERSOLD, account=None, reason="x")
        seen: list[KnownKeys] = []

        def decide(known: KnownKeys) -> Step:
            seen.append(dict(known))
            if "in" not in known:  # first step: what the item calls for
                return Step(events=[received("A", 2, k="in")], marks=["closed"])
            return Step(final=True, incidents=[oversold], ack=[item.id])

        settled = await inbox.settle(["in", "closed"], decide)
        assert seen == [{}, {"in": None, "closed": None}]  # the second step sees the first
        [(event, result)] = settled.appended
        assert event.idempotency_key == "in"
        assert result.applied
        assert not result.duplicate
        assert settled.fresh == [True]
        assert await inbox.counts() == InboxCounts(pending=0, parked=0)
        assert [i.key for i in await inbox.incidents()] == ["oversold:1"]
        assert (await store.ledger.balances([Sku("A")]))[Sku("A")][WH].on_hand == 2

    async def test_a_settlement_replayed_changes_nothing(self, store: Store, inbox: Inbox) -> None:
        await seed(store, ["A"])
        step = Step(events=[received("A", 2, k="in")], final=True)
        await inbox.settle(["in"], lambda _: step)
        again = await inbox.settle(["in"], lambda _: step)
        [(_, result)] = again.appended
        assert result.duplicate
        assert (await store.ledger.balances([Sku("A")]))[Sku("A")][WH].on_hand == 2
        assert await record(inbox, [dataclass_incident("k")]) == [True]
        assert await record(inbox, [dataclass_incident("k")]) == [False]

    async def test_a_refused_settlement_writes_nothing_at_all(
        self, store: Store, inbox: Inbox
    ) -> None:
        await seed(store, ["A"])
        await inbox.put([message("order-1")])
        (item,) = await inbox.take(10)
        refused = Step(
            events=[received("NOPE", 1, k="unknown-sku")],
            marks=["closed"],
            final=True,
            incidents=[dataclass_incident("k")],
            ack=[item.id],
        )
        with pytest.raises(DomainError):
            await inbox.settle(["closed"], lambda _: refused)
        assert await inbox.known(["closed", "unknown-sku"]) == {}
        assert await inbox.incidents() == []
        assert (await inbox.counts()).pending == 1  # not acknowledged: it comes back

    async def test_a_settlement_that_never_finishes_is_an_error_and_writes_nothing(
        self, store: Store, inbox: Inbox
    ) -> None:
        await seed(store, ["A"])
        rounds: list[int] = []

        def endless(known: KnownKeys) -> Step:
            rounds.append(len(known))
            return Step(marks=[f"m{len(rounds)}"])

        with pytest.raises(RuntimeError, match="did not converge"):
            await inbox.settle(["m1"], endless)
        assert len(rounds) == MAX_ROUNDS
        assert await inbox.known(["m1"]) == {}


def dataclass_incident(key: str) -> Incident:
    return Incident(key=key, kind=IncidentKind.REJECTED, account=None, reason="refused")
