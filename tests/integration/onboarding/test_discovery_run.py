"""A discovery run against the WooCommerce sandbox into a real store: interrupted (cancelled,
or failing past its retries) it resumes after the last saved page, with the same result."""

from __future__ import annotations

import asyncio
import random

import pytest

from omnistock.clock import SystemClock
from omnistock.domain.errors import TransientError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.ledger.store import Store
from omnistock.onboarding.discovery import DiscoveryProgress, DiscoveryRunner
from tests.integration.adapters.test_woocommerce_discovery import woo_adapter, woo_sandbox

A, B = AccountId("woo"), AccountId("woo-clean")


def shop() -> WooSandbox:
    return woo_sandbox(
        skus=700, variant_share=0.3, mix=ListingMix(unmanaged_share=0.1, duplicate_skus=2)
    )


def runner(store: Store, harness: WooSandbox, attempts: int = 6) -> DiscoveryRunner:
    return DiscoveryRunner(
        store=store,
        clock=SystemClock(),
        timer=harness.timer,
        attempts=attempts,
        rng=random.Random(1),
    )


async def snapshot(store: Store, account: AccountId) -> list[tuple[object, ...]]:
    return [
        (r.key, r.sku, dict(r.external_ids), r.managed, r.quantity, r.title, r.location)
        for r in await store.discovery.listings(account)
    ]


async def clean_run(store: Store, harness: WooSandbox) -> list[tuple[object, ...]]:
    adapter = woo_adapter(harness)
    await runner(store, harness).run(B, adapter)
    await adapter.aclose()
    return await snapshot(store, B)


async def test_a_run_saves_every_listing_and_finishes(store: Store) -> None:
    harness = shop()
    adapter = woo_adapter(harness)
    seen: list[DiscoveryProgress] = []
    done = await runner(store, harness).run(A, adapter, report=seen.append)
    expected = len(harness.store.products) + len(harness.store.variations)
    assert done.done
    assert done.listings == expected == await store.discovery.count(A)
    assert [p.pages for p in seen] == list(range(1, done.pages + 1))
    assert seen[-1].total == expected
    run = await store.discovery.run_of(A)
    assert run is not None
    assert run.done
    assert run.pages == done.pages
    await adapter.aclose()


async def test_a_cancelled_run_resumes_after_its_last_page(store: Store) -> None:
    harness = shop()
    expected = await clean_run(store, harness)
    adapter = woo_adapter(harness)
    task: asyncio.Task[DiscoveryProgress] | None = None

    def stop_after_four(progress: DiscoveryProgress) -> None:
        if progress.pages == 4 and task is not None:
            task.cancel()

    task = asyncio.create_task(runner(store, harness).run(A, adapter, report=stop_after_four))
    with pytest.raises(asyncio.CancelledError):
        await task
    run = await store.discovery.run_of(A)
    assert run is not None
    assert not run.done
    assert run.pages == 4
    calls_before = len(harness.core.calls.records())
    done = await runner(store, harness).run(A, woo_adapter(harness))
    assert done.resumed
    assert done.done
    assert await snapshot(store, A) == expected
    # Resuming re-read nothing it had saved: exactly the pages a clean run reads, less 4.
    clean_pages = (await store.discovery.run_of(B)).pages  # type: ignore[union-attr]
    assert len(harness.core.calls.records()) - calls_before == clean_pages - 4
    await adapter.aclose()


async def test_a_page_failing_past_the_retries_stops_the_run_and_resume_completes(
    store: Store,
) -> None:
    harness = shop()
    expected = await clean_run(store, harness)
    adapter = woo_adapter(harness)
    pages_seen = 0

    def break_the_site(progress: DiscoveryProgress) -> None:
        nonlocal pages_seen
        pages_seen = progress.pages
        if progress.pages == 3:
            harness.faults.apply(FaultSettings(error_rates={500: 1.0}))

    with pytest.raises(TransientError):
        await runner(store, harness, attempts=3).run(A, adapter, report=break_the_site)
    assert pages_seen == 3
    harness.faults.apply(FaultSettings())
    done = await runner(store, harness).run(A, adapter)
    assert done.resumed
    assert await snapshot(store, A) == expected
    await adapter.aclose()


async def test_a_transient_failure_is_retried_within_the_run(store: Store) -> None:
    harness = shop()
    expected = await clean_run(store, harness)
    adapter = woo_adapter(harness)

    def throttle_once(progress: DiscoveryProgress) -> None:
        if progress.pages == 2:
            harness.faults.next_response(status=429, retry_after_s=2)

    done = await runner(store, harness).run(A, adapter, report=throttle_once)
    assert not done.resumed
    assert await snapshot(store, A) == expected
    refused = [c for c in harness.core.calls.records() if c.status == 429]
    assert len(refused) == 1
    assert refused[0].faulted
    await adapter.aclose()


async def test_restart_starts_over_and_a_finished_run_is_run_again(store: Store) -> None:
    harness = shop()
    adapter = woo_adapter(harness)
    first = await runner(store, harness).run(A, adapter)
    gone = next(iter(harness.store.products.values()))
    del harness.store.products[gone.id]  # deleted on the site since (a simple or a parent)
    for vid in gone.variation_ids:
        del harness.store.variations[vid]
    again = await runner(store, harness).run(A, adapter)  # the last run had finished
    assert not again.resumed
    keys = {r.key for r in await store.discovery.listings(A)}
    assert str(gone.id) not in keys
    assert again.listings == first.listings - 1 - len(gone.variation_ids)
    restarted = await runner(store, harness).run(A, adapter, restart=True)
    assert restarted.listings == again.listings
    await adapter.aclose()
