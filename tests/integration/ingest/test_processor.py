"""Inbox processing against a real store and real WooCommerce webhooks: orders reserve,
cancellations release, completions ship; oversells and unknown SKUs become incidents;
processing an item twice changes nothing; poison items are parked."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection

from omnistock.bus.inbox import (
    DEFAULT_MAX_ATTEMPTS,
    Decide,
    InboxCounts,
    InboxKind,
    InboxMessage,
    IncidentKind,
    Settled,
)
from omnistock.domain.balance import Balance
from omnistock.domain.catalog import Item
from omnistock.domain.ids import Sku
from omnistock.ingest.codec import encode_ledger_events
from omnistock.ingest.processor import InboxProcessor, ProcessReport
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.ledger.store import Store
from tests.contract.builders import received
from tests.integration.ingest.conftest import (
    ACCOUNT,
    ORDER_TOPICS,
    WH,
    DelegatingInbox,
    Woo,
    deliver,
    link,
)


async def balance(store: Store, sku: Sku) -> Balance:
    return (await store.ledger.balances([sku]))[sku][WH]


async def test_orders_reserve_then_release_or_ship(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(2, quantity=50)
    await link(store, refs, stock=5)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    kept, cancelled = await woo.harness.place_orders(refs, 2, per_second=2)
    await deliver(store, await woo.events())
    processor = InboxProcessor(store)
    report = await processor.run_once()
    assert (report.taken, report.acked, report.applied) == (2, 2, 2)
    assert report.skus == {refs[0].sku, refs[1].sku}
    # Sold on the channel: its own level fell (the dispatchers' writes expect that level).
    assert report.sold == {(ACCOUNT, refs[0].sku): 1, (ACCOUNT, refs[1].sku): 1}
    assert await balance(store, refs[0].sku) == Balance(5, 1)

    woo.cancel(cancelled)
    woo.set_status(kept, "completed")
    await deliver(store, await woo.events())
    report = await processor.run_once()
    assert (report.applied, report.sold) == (2, {})
    assert await balance(store, refs[0].sku) == Balance(4, 0)  # shipped
    assert await balance(store, refs[1].sku) == Balance(5, 0)  # released
    assert (await store.verify()).ok


async def test_one_pass_settles_many_orders_together_and_a_line_seen_again_after_them(
    store: Store, woo: Woo
) -> None:
    refs = await woo.harness.seed(3, quantity=50)
    await link(store, refs, stock=5)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    orders = await woo.harness.place_orders(refs, 6, per_second=6)
    placed = await woo.events()
    woo.cancel(orders[0])  # cancelled before the pass: its release must follow its placement
    events = [*placed, *await woo.events()]
    for event in events:  # one delivery each, as the webhook route stores them
        await deliver(store, [event])
    report = await InboxProcessor(store).run_once()
    assert (report.taken, report.acked, report.failed) == (7, 7, 0)
    assert report.applied == 7  # six reservations and one release
    reserved = {r.sku: 0 for r in refs}
    for n in range(1, 6):
        reserved[refs[n % 3].sku] += 1
    for ref in refs:
        assert await balance(store, ref.sku) == Balance(5, reserved[ref.sku])
    assert (await store.verify()).ok


async def test_redelivered_and_repolled_orders_reserve_once(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await link(store, refs, stock=5)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    woo.harness.duplicate_webhooks()
    await woo.harness.place_orders(refs, 1, per_second=1)
    events = await woo.events()
    assert len(events) == 2
    assert await deliver(store, events) == [True, False]
    polled = (await woo.adapter.poll_orders(None)).events
    assert await deliver(store, polled) == [False]
    # A later edit of the same order, same status: a new dedupe key, the same order lines.
    order = next(iter(woo.harness.store.orders.values()))
    woo.set_status(str(order.id), "processing")
    assert await deliver(store, (await woo.adapter.poll_orders(None)).events) == [True]
    processor = InboxProcessor(store)
    report = await processor.run_once()
    assert (report.taken, report.applied) == (2, 1)
    assert report.sold == {(ACCOUNT, refs[0].sku): 1}  # once, however often it came
    assert await balance(store, refs[0].sku) == Balance(5, 1)


async def test_a_reservation_the_stock_cannot_cover_is_an_oversell_incident(
    store: Store, woo: Woo
) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await link(store, refs, stock=1)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    first, second = await woo.harness.place_orders(refs, 2, per_second=2)
    await deliver(store, await woo.events())
    processor = InboxProcessor(store)
    report = await processor.run_once()
    assert (report.applied, report.rejected) == (1, 1)
    (incident,) = report.incidents
    assert (incident.kind, incident.order_id, incident.sku, incident.quantity) == (
        IncidentKind.OVERSOLD,
        second,
        refs[0].sku,
        1,
    )
    assert incident.reason.startswith("reserved: ")
    assert refs[0].sku in report.skus  # to be re-pushed at once
    assert await processor.incidents() == [
        i for i in await store.inbox.incidents() if i.key == incident.key
    ]
    # Cancelling the oversold order releases nothing (it never held stock).
    woo.cancel(second)
    await deliver(store, await woo.events())
    report = await processor.run_once()
    assert (report.acked, report.applied, report.incidents) == (1, 0, ())
    assert await balance(store, refs[0].sku) == Balance(1, 1)
    assert (await store.inbox.incidents())[0].order_id == second != first


async def test_an_unknown_sku_is_an_incident_while_the_other_lines_apply(
    store: Store, woo: Woo
) -> None:
    listed, unlisted = await woo.harness.seed(2, quantity=50)
    await link(store, [listed], stock=5)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    woo.harness.store.place_order(
        [OrderLine(sku=listed.sku, quantity=2), OrderLine(sku=unlisted.sku, quantity=1)]
    )
    await deliver(store, await woo.events())
    report = await InboxProcessor(store).run_once()
    assert (report.acked, report.applied) == (1, 1)
    (incident,) = report.incidents
    assert incident.kind is IncidentKind.UNMAPPED_LINE
    assert "no listing or known SKU" in incident.reason
    assert await balance(store, listed.sku) == Balance(5, 2)


class _LostAcks(DelegatingInbox):
    """The real inbox, except that every acknowledgement is lost after the ledger events are
    written (as when a process dies between a distributed inbox's ack and the ledger's
    commit): each item is delivered again."""

    async def settle(self, keys: Collection[str], decide: Decide) -> Settled:
        return await self.inner.settle(
            keys, lambda known: dataclasses.replace(decide(known), ack=())
        )


async def test_processing_an_item_twice_changes_nothing(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await link(store, refs, stock=5)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    (order_id,) = await woo.harness.place_orders(refs, 1, per_second=1)
    woo.set_status(order_id, "completed")  # placed, then placed + fulfilled
    await deliver(store, await woo.events())
    crashing = InboxProcessor(store, inbox=_LostAcks(store.inbox), lease=0.0)
    await crashing.run_once()
    assert await balance(store, refs[0].sku) == Balance(4, 0)
    report = await InboxProcessor(store).run_once()
    assert (report.taken, report.acked, report.applied) == (2, 2, 0)
    assert await balance(store, refs[0].sku) == Balance(4, 0)
    assert await store.inbox.counts() == InboxCounts(pending=0, parked=0)


async def test_ledger_event_items_apply_and_poison_items_are_parked(store: Store) -> None:
    await link(store, [], stock=0)  # the location and the account, no listings
    await store.catalog.put_items([Item(sku=Sku("A"))])
    await store.inbox.put(
        [
            InboxMessage(
                kind=InboxKind.LEDGER_EVENTS,
                account=None,
                dedupe_key="api:1",
                payload=encode_ledger_events([received("A", 3)]),
            ),
            InboxMessage(
                kind=InboxKind.CHANNEL_EVENT, account=ACCOUNT, dedupe_key="bad", payload="{"
            ),
        ]
    )
    processor = InboxProcessor(store, retry_s=0.0)
    reports = [await processor.run_once() for _ in range(DEFAULT_MAX_ATTEMPTS)]
    assert reports[0].applied == 1
    assert [r.failed for r in reports] == [1] * DEFAULT_MAX_ATTEMPTS
    assert [r.parked for r in reports][-1] == 1
    (parked,) = await store.inbox.parked()
    assert parked.dedupe_key == "bad"
    assert parked.last_error is not None
    assert parked.last_error.startswith("InvalidInputError")
    assert (await store.ledger.balances([Sku("A")]))[Sku("A")][WH] == Balance(3, 0)


async def test_an_event_for_an_unknown_account_waits_for_a_retry(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    await woo.harness.place_orders(refs, 1, per_second=1)
    await deliver(store, await woo.events())
    report = await InboxProcessor(store, retry_s=60).run_once()
    assert (report.failed, report.parked, report.acked) == (1, 0, 0)
    assert await store.inbox.take(10) == []  # not before its retry time
    assert await store.inbox.counts() == InboxCounts(pending=1, parked=0)


async def test_run_processes_until_stopped(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await link(store, refs, stock=5)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    await woo.harness.place_orders(refs, 3, per_second=3)
    stop = asyncio.Event()
    reports: list[ProcessReport] = []

    async def on_report(report: ProcessReport) -> None:
        reports.append(report)
        if sum(r.applied for r in reports) == 3:
            stop.set()

    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        tg.create_task(InboxProcessor(store).run(stop, idle_s=0.01, on_report=on_report))
        await deliver(store, await woo.events())
    assert await balance(store, refs[0].sku) == Balance(5, 3)
