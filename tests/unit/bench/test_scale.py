"""The scale benchmark at a tiny size: the plan covers every listing with its desired
quantity in the platform's batches, and reconciliation finds exactly the drift generated."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from omnistock.domain.ids import AccountId
from omnistock.kit.bench import scale
from omnistock.ledger.store import Store

TINY = scale.ScaleSize(skus=300, drift=0.02, load_batch=128, take=50)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = await Store.open("sqlite://")
    await scale.load(opened, TINY)
    yield opened
    await opened.close()


async def test_plan_covers_every_listing_of_every_account_in_platform_batches(
    store: Store,
) -> None:
    batches = await scale.plan(store, TINY)
    assert set(batches) == set(scale.PLATFORMS)
    for platform, planned in batches.items():
        max_batch = scale.CAPABILITIES[platform].max_batch
        updates = [u for batch in planned for u in batch]
        assert [u.ref.listing for u in updates] == [
            scale.listing_of(platform, i) for i in range(TINY.skus)
        ]
        assert [u.quantity for u in updates] == [
            scale.desired_of(platform, i) for i in range(TINY.skus)
        ]
        assert all(len(batch) <= max_batch for batch in planned)
        assert len(planned) == math.ceil(TINY.skus / max_batch)
    assert 0 in {u.quantity for batch in batches["shopify"] for u in batch}  # some sold out


async def test_reconciliation_finds_exactly_the_drifted_listings(store: Store) -> None:
    await scale.record_first_push(store, TINY)
    assert not await store.sync.dirty(AccountId("ebay"))
    found = await scale.reconcile(store, TINY)
    expected = scale.expected_drift(TINY)
    assert {len(listings) for listings in expected.values()} == {6}  # 2% of 300
    assert found == dict.fromkeys(scale.PLATFORMS, 6)
    assert await scale.drift_recorded(store) == expected
    dirty = {s.listing for s in await store.sync.dirty(AccountId("ebay"))}
    assert dirty == expected["ebay"]


async def test_run_reports_positive_figures_from_fresh_processes() -> None:
    result = await scale.run(scale.ScaleSize(skus=200, load_batch=100), repeat=1)
    figures = result["omnistock"]
    assert isinstance(figures, dict)
    for operation in ("plan", "reconcile"):
        assert figures[operation]["seconds"]["median"] > 0
        peak, baseline = figures[operation]["peak_rss_mb"], figures[operation]["baseline_rss_mb"]
        assert peak["median"] >= baseline["median"] > 0
    assert figures["plan"]["covers_every_listing"] is True
    assert figures["plan"]["listings"] == 800
    assert figures["reconcile"]["drift_found"] == figures["reconcile"]["drift_expected"] == 8
    assert figures["reconcile"]["found_exactly_the_drift"] is True
    assert figures["load"]["listings_seconds"] >= 0
    assert result["target_met"] == dict.fromkeys(
        ("plan_seconds", "plan_memory", "reconcile_seconds", "reconcile_memory"), True
    )


def test_a_child_reports_its_own_peak_memory_not_its_parents() -> None:
    ballast = b"x" * 400_000_000  # the parent's pages, touched
    assert scale.peak_rss_mb() > 400
    child = subprocess.run(
        [sys.executable, "-c", "from omnistock.kit.bench import scale; print(scale.peak_rss_mb())"],
        capture_output=True,
        check=True,
        text=True,
    )
    assert float(child.stdout) < 200, child.stdout
    del ballast
