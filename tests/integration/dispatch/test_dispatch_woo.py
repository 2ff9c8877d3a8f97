"""The dispatcher against the WooCommerce sandbox and a real store: converges, coalesces,
orders by risk, retries only what failed, keeps permanent failures visible, first sync
and drift. Time is the sandbox's manual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from omnistock.adapters.base import ServerPaced
from omnistock.dispatch import DispatchSettings
from omnistock.dispatch import dispatcher as dispatcher_module
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import Item
from omnistock.domain.ids import Sku
from omnistock.domain.planning import Priority
from tests.contract.builders import adjusted
from tests.integration.dispatch.rig import ACCOUNT, Rig, listing_of


async def test_one_pass_makes_the_channel_show_the_ledger(rig: Rig) -> None:
    refs = await rig.add_listings(30)
    await rig.set_stock({r.sku: n for n, r in enumerate(refs)})
    report = await rig.dispatcher().run_once()
    assert (report.pushed, report.succeeded, report.failed, report.calls) == (30, 30, 0, 1)
    assert await rig.converged()
    assert await rig.shown() == {r.listing: n for n, r in enumerate(refs)}
    again = await rig.dispatcher().run_once()
    assert (again.pushed, again.calls, rig.writes()) == (0, 0, 1)


async def test_a_listing_changed_a_hundred_times_is_written_twice(rig: Rig) -> None:
    [ref] = await rig.add_listings(1, quantity=200)
    dispatcher = rig.dispatcher()
    await dispatcher.run_once()
    rig.harness.reset_calls()
    for n in range(100):
        await rig.store.ledger.append([adjusted(ref.sku, -1)])
        if n == 49:
            await dispatcher.run_once()
    await dispatcher.run_once()
    assert rig.writes() == 2
    assert await rig.harness.held(ref) == 100
    assert await rig.converged()


async def test_a_batch_never_splits_a_parents_variations_over_two_calls(rig: Rig) -> None:
    simple = await rig.add_listings(150, quantity=50)
    variations = await rig.add_listings(100, quantity=50, variants=True)  # 20 parents
    dispatcher = rig.dispatcher()
    await dispatcher.run_once()
    # Urgency interleaves the groups: every fifth simple product drops, the others rise.
    await rig.set_stock({r.sku: 10 if n % 5 else 60 for n, r in enumerate(variations)})
    await rig.set_stock({r.sku: 60 if n % 3 else 10 for n, r in enumerate(simple)})
    rig.harness.reset_calls()
    rig.adapter.pushes.clear()
    report = await dispatcher.run_once()
    # ⌈150/100⌉ simple-product calls + one per parent: the fewest the endpoints allow.
    assert (report.pushed, report.calls, rig.writes()) == (250, 22, 22)
    for push in rig.adapter.pushes:
        assert len({rig.adapter.write_group(u.ref) for u in push}) == 1
    # The site serves several requests at once: one at a time, its round trip would bound
    # the rate, not its capacity.
    rate = rig.adapter.capabilities.rate
    assert isinstance(rate, ServerPaced)
    assert rig.adapter.most_in_flight == rate.max_in_flight > 1
    assert await rig.converged()


async def test_decreases_to_zero_and_low_stock_go_before_increases(rig: Rig) -> None:
    refs = await rig.add_listings(150, quantity=50)
    dispatcher = rig.dispatcher()
    await dispatcher.run_once()
    ups, downs, zeros = refs[:100], refs[100:130], refs[130:]
    await rig.set_stock({r.sku: 80 for r in ups} | {r.sku: 20 for r in downs})
    await rig.set_stock({r.sku: 0 for r in zeros})  # the newest change, yet the first write
    rig.adapter.pushes.clear()
    report = await dispatcher.run_once()
    assert (report.pushed, report.calls) == (150, 2)
    first, second = rig.adapter.pushes
    assert [u.quantity for u in first[:20]] == [0] * 20
    assert {u.quantity for u in first[20:50]} == {20}
    assert {u.quantity for u in first[50:]} | {u.quantity for u in second} == {80}
    assert await rig.converged()


async def test_a_half_failed_batch_retries_only_the_failed_items(rig: Rig) -> None:
    refs = await rig.add_listings(10)
    await rig.set_stock({r.sku: 7 for r in refs})
    for ref in refs[:2]:
        rig.harness.fail_item_writes(ref)
    dispatcher = rig.dispatcher()
    report = await dispatcher.run_once()
    assert (report.pushed, report.succeeded, report.failed) == (10, 8, 2)
    dirty = await rig.store.sync.dirty(ACCOUNT)
    assert {s.listing for s in dirty} == {r.listing for r in refs[:2]}
    assert all(s.attempts == 1 and s.last_error for s in dirty)
    rig.harness.reset_calls()
    rig.harness.manual_clock.advance(60)  # past any first backoff
    retry = await dispatcher.run_once()
    assert (retry.pushed, retry.succeeded) == (2, 2)
    assert [c.items for c in rig.harness.calls()] == [2]
    assert await rig.converged()


async def test_a_permanent_failure_stays_dirty_with_its_error_and_comes_back(rig: Rig) -> None:
    await rig.add_listings(3)
    gone = rig.harness.unknown_listing()
    await rig.store.catalog.put_items([Item(sku=gone.sku)])
    await rig.store.catalog.put_listings([listing_of(gone)])
    await rig.set_stock({gone.sku: 0})  # known to be out of stock: its zero is pushed
    dispatcher = rig.dispatcher(DispatchSettings(linger=0))
    report = await dispatcher.run_once()
    assert (report.succeeded, report.failed) == (3, 1)
    [stuck] = await rig.store.sync.dirty(ACCOUNT)
    assert stuck.listing == gone.listing
    assert stuck.last_error
    assert stuck.next_attempt_at == rig.clock.now() + timedelta(seconds=900)
    rig.harness.manual_clock.advance(899)
    assert (await dispatcher.run_once()).pushed == 0
    rig.harness.manual_clock.advance(1)
    assert (await dispatcher.run_once()).failed == 1  # retried, not forgotten
    [still] = await rig.store.sync.dirty(ACCOUNT)
    assert still.attempts == 2


async def test_first_sync_dry_run_writes_nothing_then_pushes_every_listing(rig: Rig) -> None:
    refs = await rig.add_listings(5)
    dispatcher = rig.dispatcher()
    await dispatcher.run_once()
    await rig.harness.change_externally(refs[0], 99)  # unknown to omnistock yet
    rig.harness.reset_calls()
    planned = await dispatcher.first_sync(dry_run=True)
    assert planned.dry_run
    assert [(u.ref.listing, u.quantity) for u in planned.updates] == [
        (r.listing, 5) for r in sorted(refs, key=lambda r: r.listing)
    ]
    assert rig.harness.calls() == []
    assert await rig.harness.held(refs[0]) == 99
    done = await dispatcher.first_sync(dry_run=False)
    assert (done.report.pushed, done.report.succeeded) == (5, 5)
    assert await rig.converged()


async def test_drift_is_recorded_and_overwritten_with_the_ledger(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_module, "RECONCILE_PAGE", 3)  # two pages, read ahead
    refs = await rig.add_listings(4)
    dispatcher = rig.dispatcher()
    await dispatcher.run_once()
    await rig.harness.change_externally(refs[1], 42)  # edited by hand in wp-admin
    await rig.harness.change_externally(refs[3], 40)  # on the second page
    assert await dispatcher.reconcile() == 2
    drift = await rig.store.sync.drift(ACCOUNT)
    assert [(d.listing, d.pushed_qty, d.desired_qty) for d in drift] == [
        (refs[1].listing, 42, 5),
        (refs[3].listing, 40, 5),
    ]
    report = await dispatcher.run_once()
    assert report.pushed == 2
    assert await rig.harness.held(refs[1]) == 5
    assert await rig.store.sync.drift(ACCOUNT) == []
    assert await dispatcher.reconcile() == 0


async def test_increases_linger_for_a_fuller_batch(rig: Rig) -> None:
    refs = await rig.add_listings(3)
    dispatcher = rig.dispatcher(DispatchSettings(linger=0.05))
    await dispatcher.run_once()
    await rig.set_stock({refs[0].sku: 9})
    before = rig.harness.timer.monotonic()
    assert (await dispatcher.run_once()).pushed == 1
    assert rig.harness.timer.monotonic() - before == pytest.approx(0.05)
    states = await rig.store.sync.get([refs[0].listing])
    assert states[refs[0].listing].priority == Priority.INCREASE
    await rig.set_stock({Sku(refs[1].sku): 0})
    before = rig.harness.timer.monotonic()
    assert (await dispatcher.run_once()).pushed == 1
    assert rig.harness.timer.monotonic() == before  # a zero never waits


async def test_a_held_dispatcher_starts_no_pass_then_pushes_the_burst_once(rig: Rig) -> None:
    refs = await rig.add_listings(10)
    dispatcher = rig.dispatcher()
    await dispatcher.run_once()
    rig.harness.reset_calls()
    stop = asyncio.Event()
    with dispatcher.held():
        running = asyncio.create_task(dispatcher.run(stop))
        for n in range(3):  # a burst arriving in several appends
            await rig.set_stock({r.sku: 6 + n for r in refs})
            dispatcher.wake()
            await asyncio.sleep(0.01)
        assert rig.writes() == 0
    async with asyncio.timeout(10):
        while not await rig.converged():  # noqa: ASYNC110 - polled, as run_until_converged
            await asyncio.sleep(0.005)
    stop.set()
    await running
    assert rig.writes() == 1  # the last quantities, in one call
    assert set((await rig.shown()).values()) == {8}


async def test_polls_yield_to_pushes_and_to_an_open_circuit(rig: Rig) -> None:
    dispatcher = rig.dispatcher()
    assert dispatcher.poll_delay() == 0.0
    dispatcher.pushing = True
    assert dispatcher.poll_delay() > 0
    dispatcher.pushing = False
    dispatcher.circuit.trip()
    assert dispatcher.poll_delay() == dispatcher.circuit.retry_in() > 0


async def test_a_parent_whose_variations_lie_far_apart_in_risk_order_is_written_once(
    rig: Rig,
) -> None:
    variations = await rig.add_listings(300, quantity=50, variants=True)  # 60 parents
    dispatcher = rig.dispatcher(DispatchSettings(take=100, linger=0))
    while (await dispatcher.run_once()).pushed:
        pass
    group = rig.adapter.write_group
    parents = sorted({group(r) for r in variations})
    # A parent's n-th variation changes n + 1 times: by their changes' sequence (how the
    # store hands due listings out) a parent's five lie 60 apart, the last ones past twice
    # a pass's take.
    by_parent = [[r for r in variations if group(r) == p] for p in parents]
    for k in range(5):
        await rig.set_stock({refs[n].sku: 20 + k for refs in by_parent for n in range(k, 5)})
    rig.adapter.pushes.clear()
    while (await dispatcher.run_once()).pushed:
        pass
    written = [group(u.ref) for push in rig.adapter.pushes for u in push[:1]]
    assert sorted(written) == parents  # one call per parent
    assert await rig.converged()


# --- a fresh ledger never zeroes a channel --------------------------------------------------


async def test_a_listing_with_no_stock_known_is_held_back_not_zeroed(rig: Rig) -> None:
    """The channel shows 9 of a SKU the ledger has never heard of: nothing is pushed, the
    listing is reported held; a first count of zero releases it and the zero is pushed."""
    [ref] = await rig.harness.seed(1, quantity=9)
    await rig.store.catalog.put_items([Item(sku=ref.sku)])
    await rig.store.catalog.put_listings([listing_of(ref)])
    dispatcher = rig.dispatcher(DispatchSettings(linger=0))
    dry = await dispatcher.first_sync(dry_run=True)
    assert (dry.updates, dry.held) == ((), (ref.listing,))
    await dispatcher.first_sync(dry_run=False)
    assert await rig.harness.held(ref) == 9
    assert rig.writes() == 0
    assert await rig.store.sync.held(ACCOUNT) == [ref.listing]
    assert not await rig.store.sync.dirty(ACCOUNT)
    await rig.set_stock({ref.sku: 0})  # the merchant's stock file says: none left
    assert await rig.store.sync.held(ACCOUNT) == []
    await dispatcher.run_once()
    assert await rig.harness.held(ref) == 0


async def test_a_bundle_is_held_while_one_of_its_components_has_no_stock_known(
    rig: Rig,
) -> None:
    [bundle_ref] = await rig.harness.seed(1, quantity=4)
    await rig.store.catalog.put_items([Item(sku=bundle_ref.sku), Item(sku=Sku("PART-A"))])
    await rig.store.catalog.put_items([Item(sku=Sku("PART-B"))])
    await rig.store.catalog.put_bundle(
        Bundle(
            bundle_ref.sku, (BundleComponent(Sku("PART-A"), 1), BundleComponent(Sku("PART-B"), 2))
        )
    )
    await rig.store.catalog.put_listings([listing_of(bundle_ref)])
    dispatcher = rig.dispatcher(DispatchSettings(linger=0))
    await rig.set_stock({Sku("PART-A"): 5})
    await dispatcher.first_sync(dry_run=False)
    assert await rig.harness.held(bundle_ref) == 4  # PART-B never counted: untouched
    await rig.set_stock({Sku("PART-B"): 1})  # now known: 1 // 2 = 0 bundles
    await dispatcher.run_once()
    assert await rig.harness.held(bundle_ref) == 0


async def test_the_operator_may_push_zeros_for_unknown_stock(rig: Rig) -> None:
    [ref] = await rig.harness.seed(1, quantity=9)
    await rig.store.catalog.put_items([Item(sku=ref.sku)])
    await rig.store.catalog.put_listings([listing_of(ref)])
    dispatcher = rig.dispatcher(DispatchSettings(linger=0, hold_unknown_stock=False))
    await dispatcher.first_sync(dry_run=False)
    assert await rig.harness.held(ref) == 0
