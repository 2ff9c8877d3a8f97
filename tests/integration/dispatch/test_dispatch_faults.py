"""The dispatcher under faults: 429 storms, 5xx, an outage that opens the circuit and is
probed half-open, refused credentials; after the faults stop every listing converges and
nothing is dropped. The loop (`run`) wakes on `wake()` and does not spin when idle."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import httpx

from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.clock import SystemClock, SystemTimer
from omnistock.dispatch import (
    AccountDispatcher,
    CircuitSettings,
    CircuitState,
    DispatchReport,
    DispatchSettings,
)
from tests.integration.dispatch.rig import ACCOUNT, WEBHOOK_SECRET, Rig

FAST_CIRCUIT = CircuitSettings(failure_threshold=3, cool_down=10.0, max_cool_down=40.0)


def state_of(dispatcher: AccountDispatcher) -> CircuitState:
    return dispatcher.circuit.state  # read afresh: the state moves with time and calls


def statuses(rig: Rig) -> list[int]:
    return [c.status for c in rig.harness.calls()]


async def test_a_429_storm_ends_converged_without_hammering(rig: Rig) -> None:
    refs = await rig.add_listings(20)
    await rig.set_stock({r.sku: 3 for r in refs})
    rig.harness.storm_429(seconds=30, retry_after=5)
    await rig.run_until_converged(rig.dispatcher())
    refused = statuses(rig).count(429)
    assert 1 <= refused <= 8  # Retry-After and the circuit kept us from retrying in a loop
    assert rig.writes() >= 1


async def test_random_5xx_then_recovery_loses_nothing(rig: Rig) -> None:
    refs = await rig.add_listings(120)
    await rig.set_stock({r.sku: n % 7 for n, r in enumerate(refs)})
    rig.harness.error_rate(500, 0.7)
    dispatcher = rig.dispatcher()
    for _ in range(10):
        await dispatcher.run_once()
        rig.harness.manual_clock.advance(5)
    assert 500 in statuses(rig)
    rig.harness.clear_faults()
    await rig.run_until_converged(dispatcher)
    assert await rig.shown() == {r.listing: n % 7 for n, r in enumerate(refs)}


async def test_an_outage_opens_the_circuit_which_probes_half_open(rig: Rig) -> None:
    refs = await rig.add_listings(150)
    await rig.set_stock({r.sku: 1 for r in refs})
    rig.harness.outage(seconds=1000)
    dispatcher = rig.dispatcher(DispatchSettings(circuit=FAST_CIRCUIT, linger=0))
    passes = []
    for _ in range(2):
        passes.append(await dispatcher.run_once())
        rig.harness.manual_clock.advance(2)
    assert state_of(dispatcher) is CircuitState.OPEN  # 3 failed calls: 2 + 1
    assert [p.calls for p in passes] == [2, 1]
    assert passes[1].circuit_open
    calls = len(rig.harness.calls())
    assert await dispatcher.run_once() == DispatchReport(circuit_open=True)
    assert len(rig.harness.calls()) == calls  # open: the platform is left alone
    rig.harness.manual_clock.advance(10)
    probe = await dispatcher.run_once()
    assert (probe.calls, probe.circuit_open) == (1, True)  # one probe batch, failed
    assert dispatcher.circuit.retry_in() == 20.0
    rig.harness.clear_faults()
    rig.harness.manual_clock.advance(20)
    recovered = await dispatcher.run_once()
    assert (recovered.calls, recovered.succeeded) == (2, 150)
    assert state_of(dispatcher) is CircuitState.CLOSED
    assert await rig.converged()


async def test_refused_credentials_open_the_circuit_at_once(rig: Rig) -> None:
    refs = await rig.add_listings(4)
    creds = rig.harness.credentials()
    refused = WooCommerceAdapter(
        ACCOUNT,
        account_client(rig.harness.api_url(), transport=httpx.ASGITransport(app=rig.harness.app)),
        consumer_key=Secret(creds["consumer_key"]),
        consumer_secret=Secret("cs_revoked"),
        webhook_secret=Secret(WEBHOOK_SECRET),
        timer=rig.harness.timer,
    )
    dispatcher = AccountDispatcher(
        ACCOUNT, refused, rig.store, rig.harness.timer, rig.clock, rng=random.Random(1)
    )
    report = await dispatcher.run_once()
    await refused.aclose()
    assert (report.calls, report.failed) == (1, 4)
    assert state_of(dispatcher) is CircuitState.OPEN
    dirty = await rig.store.sync.dirty(ACCOUNT)
    assert {s.listing for s in dirty} == {r.listing for r in refs}
    assert all(s.last_error and "cs_revoked" not in s.last_error for s in dirty)
    assert {s.next_attempt_at for s in dirty} == {rig.clock.now() + timedelta(seconds=30)}


class CountingDispatcher(AccountDispatcher):
    passes = 0

    async def run_once(self) -> DispatchReport:
        self.passes += 1
        return await super().run_once()


async def test_run_wakes_on_new_work_and_idles_without_spinning(rig: Rig) -> None:
    refs = await rig.add_listings(3)
    settings = DispatchSettings(linger=0, idle=5.0)
    dispatcher = CountingDispatcher(
        ACCOUNT, rig.adapter, rig.store, SystemTimer(), SystemClock(), settings=settings
    )
    stop = asyncio.Event()
    async with asyncio.timeout(5), asyncio.TaskGroup() as tasks:
        tasks.create_task(dispatcher.run(stop))
        while not await rig.converged():  # noqa: ASYNC110 - nothing signals convergence
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        assert dispatcher.passes <= 2  # idle: waiting for the next due time or a wake-up
        await rig.set_stock({refs[0].sku: 0})
        dispatcher.wake()
        async with asyncio.timeout(1):  # well before the 5 s idle wait ends
            while await rig.harness.held(refs[0]) != 0:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        stop.set()
    assert await rig.converged()
