"""Order polling against the WooCommerce sandbox with webhooks dropped by its fault injection:
the poller finds the orders the webhooks missed, the missed ratio shows it, the interval
adapts, and the cursor survives a restart."""

from __future__ import annotations

import asyncio
import contextlib

from omnistock.domain.balance import Balance
from omnistock.ingest.pollers import OrderPoller, PollInterval
from omnistock.ingest.processor import InboxProcessor
from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.ledger.store import Store
from tests.integration.ingest.conftest import ACCOUNT, ORDER_TOPICS, WH, Woo, deliver, link

PACE = PollInterval(min_s=5, max_s=300, start_s=30, faster=0.5, slower=1.5)


def poller(store: Store, woo: Woo) -> OrderPoller:
    return OrderPoller(ACCOUNT, woo.adapter, store.inbox, timer=woo.harness.timer, interval=PACE)


async def test_the_poller_finds_what_the_webhooks_dropped(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await link(store, refs, stock=10)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    await woo.harness.place_orders(refs, 3, per_second=3)
    assert await deliver(store, await woo.events()) == [True] * 3
    woo.harness.faults.apply(FaultSettings(webhook_drop_rate=1.0))
    await woo.harness.place_orders(refs, 2, per_second=2)
    assert await woo.events() == []  # dropped by the sandbox

    polling = poller(store, woo)
    report = await polling.poll_once()
    assert (report.found, report.missed, report.error) == (5, 2, None)
    assert polling.health().missed_ratio == 2 / 5
    assert report.interval_s == polling.interval_s == 15  # missed some: faster

    again = await polling.poll_once()  # re-reads the overlap: nothing new to count
    assert (again.found, again.missed) == (0, 0)
    assert again.interval_s == 22.5  # idle: slower
    assert polling.health().missed_ratio == 2 / 5

    processed = await InboxProcessor(store).run_once()
    assert processed.applied == 5
    assert (await store.ledger.balances([refs[0].sku]))[refs[0].sku][WH] == Balance(10, 5)


async def test_the_cursor_survives_a_restart(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await woo.harness.place_orders(refs, 4, per_second=4)
    woo.harness.manual_clock.advance(600)  # well past the adapter's re-read overlap
    await woo.harness.place_orders(refs, 1, per_second=1)
    first = await poller(store, woo).poll_once()
    assert first.found == 5
    saved = await store.inbox.cursor(ACCOUNT)
    assert saved is not None
    await woo.harness.place_orders(refs, 1, per_second=1)
    restarted = await poller(store, woo).poll_once()
    # From the saved cursor: the overlap (the last order) and the new one, not the first 4.
    assert (restarted.found, restarted.missed) == (2, 1)
    assert await store.inbox.cursor(ACCOUNT) != saved


async def test_a_failing_channel_ends_the_poll_and_keeps_the_cursor(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await woo.harness.place_orders(refs, 2, per_second=2)
    woo.harness.fail_next(500)
    report = await poller(store, woo).poll_once()
    assert report.error is not None
    assert report.error.startswith("TransientError")
    assert (report.pages, report.found) == (0, 0)
    assert await store.inbox.cursor(ACCOUNT) is None
    assert (await poller(store, woo).poll_once()).found == 2


async def test_run_polls_until_stopped(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await woo.harness.place_orders(refs, 2, per_second=2)
    polling = poller(store, woo)
    stop = asyncio.Event()
    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        tg.create_task(polling.run(stop))
        while polling.health().found < 2:  # noqa: ASYNC110 - the poller exposes no event
            await asyncio.sleep(0.01)
        stop.set()
    assert polling.interval_s > PACE.min_s
    assert (await store.inbox.counts()).pending == 2


async def test_a_deferring_poller_does_not_call_the_channel(store: Store, woo: Woo) -> None:
    refs = await woo.harness.seed(1, quantity=50)
    await woo.harness.place_orders(refs, 2, per_second=2)
    holds = [5.0, 5.0, 0.0]
    polling = OrderPoller(
        ACCOUNT,
        woo.adapter,
        store.inbox,
        timer=woo.harness.timer,
        interval=PACE,
        defer=lambda: holds.pop(0) if len(holds) > 1 else 0.0,
    )
    woo.harness.reset_calls()
    stop = asyncio.Event()
    task = asyncio.create_task(polling.run(stop))
    async with asyncio.timeout(10):
        # Until the poll's orders are stored (the call alone is logged before they are).
        while (await store.inbox.counts()).pending < 2:  # noqa: ASYNC110 - polled
            await asyncio.sleep(0.01)
    stop.set()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert holds == [0.0]  # held twice, then polled
    assert woo.harness.calls()
