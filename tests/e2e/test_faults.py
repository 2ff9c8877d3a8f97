"""End to end under faults: the engine (in this process) against two WooCommerce sandboxes
served over loopback, with shoppers, deliveries and order changes running while the
sandboxes answer with 429 storms, 5xx, timeouts and outages and lose, copy, delay and
reorder their webhooks. Once the faults stop, every channel must show the ledger's desired
quantity within CONVERGE_S; every accepted order line must be applied exactly once (or
refused as an oversell); the ledger must never have gone negative under `reject`."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from omnistock.clock import SystemClock, SystemTimer
from omnistock.dispatch.circuit import CircuitSettings
from omnistock.dispatch.dispatcher import DispatchSettings
from omnistock.dispatch.retry import RetryPolicy
from omnistock.engine import Engine, EngineSettings
from omnistock.ingest.pollers import PollInterval
from omnistock.kit.merchant import seed_catalog
from omnistock.kit.rig import open_shop, serve_stores
from omnistock.kit.sandbox.common.faults import FaultSettings, Window
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope, new_token
from tests.e2e.audit import (
    BackOffice,
    Shop,
    audit,
    build_shop,
    divergence,
    drain,
    eventually,
    explain,
    opening_stock,
    running,
)

SEED = 4242
SKUS = 10
FAULT_PHASE_S = 5.0
SHOPPER_RATE = 6.0  # orders per second per store
CONVERGE_S = 15.0  # the bound asserted once the faults stop
# The adapters' client gives up on a silent host after this; hangs last longer.
CLIENT_TIMEOUT_S = 1.5
CLIENT_TIMEOUT = httpx.Timeout(CLIENT_TIMEOUT_S, pool=CLIENT_TIMEOUT_S * 2)
HANG_S = 3.0

# Scaled down from the defaults (backoff cap 60 s, circuit cool-down 30 s up to 600 s, polls
# every 5-300 s) so that a test can wait for recovery; the mechanisms are the same. The
# periodic reconciliation keeps its default (600 s): run while a channel fails, it stops the
# engine (see test_a_failed_reconcile_does_not_stop_the_engine).
SETTINGS = EngineSettings(
    poll=PollInterval(min_s=0.5, max_s=2.0, start_s=0.5),
    dispatch=DispatchSettings(
        idle=1.0,
        retry=RetryPolicy(base=0.2, cap=2.0),
        circuit=CircuitSettings(failure_threshold=5, cool_down=1.0, max_cool_down=4.0),
    ),
)

FAULTS = {
    # Windows outlast the fault phase: they end when the faults are cleared, with a backlog.
    "429-storm": FaultSettings(
        storm_429=Window(start_in_s=0.5, duration_s=60, retry_after_s=0.5),
        max_in_flight=1,
        capacity_status=429,
        capacity_retry_after_s=0.2,
    ),
    "5xx-then-outage": FaultSettings(
        error_rates={500: 0.2, 502: 0.1, 503: 0.1},
        outage=Window(start_in_s=FAULT_PHASE_S / 2, duration_s=60, mode="reset"),
    ),
    "timeouts": FaultSettings(timeout_rate=0.3, hang_s=HANG_S, latency_ms=20, jitter_ms=20),
    "webhooks": FaultSettings(
        webhook_drop_rate=0.3,
        webhook_duplicate_rate=0.3,
        webhook_delay_rate=0.3,
        webhook_delay_s=2.0,
        webhook_reorder_rate=0.3,
    ),
    "everything": FaultSettings(
        error_rates={500: 0.1, 503: 0.05},
        storm_429=Window(start_in_s=0.5, duration_s=1.0, retry_after_s=0.3),
        outage=Window(start_in_s=FAULT_PHASE_S - 1.5, duration_s=60),
        timeout_rate=0.1,
        hang_s=HANG_S,
        webhook_drop_rate=0.3,
        webhook_duplicate_rate=0.3,
        webhook_delay_rate=0.3,
        webhook_delay_s=2.0,
        webhook_reorder_rate=0.3,
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
async def test_converges_after_faults_with_nothing_lost_or_doubled(
    faults: FaultSettings, tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        hooks = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
        shop = build_shop(2, SKUS, SEED, webhook_client=hooks)
        await stack.enter_async_context(serve_stores(shop.merchant))
        opened = await stack.enter_async_context(
            open_shop(
                shop.merchant,
                f"sqlite:///{tmp_path / 'engine.db'}",
                clock=SystemClock(),
                timer=SystemTimer(),
                settings=SETTINGS,
                opening=lambda _: opening_stock(shop, random.Random(SEED)),
                served=True,
                call_timeout=CLIENT_TIMEOUT,
            )
        )
        store = opened.store
        token, digest = new_token()
        await store.tokens.create("erp", Scope.WRITE.value, digest, datetime.now(UTC))
        async with _running(opened.engine):
            await eventually(lambda: _converged(store, shop), CONVERGE_S)
            back_office = BackOffice(
                shop, shop.merchant.engine_url, token.reveal(), random.Random(SEED), every_s=0.5
            )
            shop.merchant.set_faults(faults)
            shop.merchant.set_shoppers(SHOPPER_RATE)
            async with running(back_office):
                await asyncio.sleep(FAULT_PHASE_S)
                shop.merchant.set_shoppers(0.0)
                shop.merchant.set_faults(FaultSettings())
                faults_ended = time.monotonic()
            # No reconciliation here: what the stores did is known from their orders alone
            # (polled when a webhook was lost), refused lines' restocks included.
            try:
                _, unseen = await drain(store, shop, CONVERGE_S)
            except TimeoutError:
                pytest.fail(f"not converged in {CONVERGE_S}s: {await explain(store, shop)}")
            converged_s = time.monotonic() - faults_ended
        result = await audit(store, shop)

    assert result.order_lines > 40, result
    injected = _injected(shop)
    assert sum(injected.values()) >= 3, f"the faults were hardly exercised: {injected}"
    print(  # noqa: T201 - the measurement, for -s runs
        f"\nconverged {converged_s:.1f}s after the faults stopped; {result}; "
        f"faults injected {injected}; deliveries {back_office.deliveries}; "
        f"mismatches seen with nothing left to do: {sorted(unseen)}"
    )


def _injected(shop: Shop) -> dict[str, int]:
    """How many API calls were answered with a fault, and how many webhooks were dropped."""
    calls = [c for site in shop.sites for c in site.sandbox.core.calls.records()]
    hooks = [o for site in shop.sites for o in site.sandbox.webhooks.sender.outcomes]
    return {
        "api_calls": sum(c.faulted for c in calls),
        "webhooks_dropped": sum(o.fault == "drop" for o in hooks),
    }


async def _converged(store: Store, shop: Shop) -> bool:
    return not await divergence(store, shop)


@contextlib.asynccontextmanager
async def _running(engine: Engine) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_a_failed_reconcile_does_not_stop_the_engine(tmp_path: Path) -> None:
    shop = build_shop(1, 3, SEED)
    [site] = shop.sites
    store = await Store.open(f"sqlite:///{tmp_path / 'engine.db'}")
    try:
        await seed_catalog(store, shop.merchant.infos())
        timer = SystemTimer()
        [adapter] = shop.merchant.adapters(timer, timeout=CLIENT_TIMEOUT).values()
        async with httpx.AsyncClient() as notify:
            engine = Engine(
                store,
                {site.account: adapter},
                clock=SystemClock(),
                timer=timer,
                notify_client=notify,
                settings=SETTINGS,
            )
            site.sandbox.faults.next_response(status=429, retry_after_s=1)
            try:
                # "A channel that cannot be read is skipped (and reported as -1)."
                assert await engine.reconcile() == {site.account: -1}
            finally:
                await adapter.aclose()
    finally:
        await store.close()
