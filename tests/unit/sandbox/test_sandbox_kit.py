"""Pure parts of the sandbox kit: catalog, clocks, truth and oversell, fault schedules.

No sockets and no sleeps; fault decisions are checked with fixed random draws.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from omnistock.kit.sandbox.common.catalog import CatalogSpec, build_catalog
from omnistock.kit.sandbox.common.clock import ManualClock, ScaledClock
from omnistock.kit.sandbox.common.faults import (
    Action,
    FaultInjector,
    FaultSettings,
    Rolls,
    Window,
    decide,
)
from omnistock.kit.sandbox.common.shoppers import Shoppers
from omnistock.kit.sandbox.common.truth import OrderLine, TruthBook

CALM = Rolls(error=0.99, timeout=0.99, jitter=0.5)


def test_catalog_is_deterministic_in_the_seed() -> None:
    spec = CatalogSpec(seed=42, skus=30, variant_share=0.5, locations=("a", "b"))
    assert build_catalog(spec) == build_catalog(spec)
    assert build_catalog(spec) != build_catalog(CatalogSpec(seed=43, skus=30, variant_share=0.5))


def test_catalog_has_exactly_the_requested_skus_some_variable() -> None:
    catalog = build_catalog(CatalogSpec(seed=1, skus=50, variant_share=0.5))
    skus = catalog.skus()
    assert len(skus) == 50
    assert len(set(skus)) == 50
    assert any(p.variable for p in catalog.products)
    assert all(len(p.items) >= 2 for p in catalog.products if p.variable)
    assert all(item.initial_quantity >= 0 for item in catalog.items)


def test_scaled_clock_runs_time_scale_times_faster() -> None:
    ticks = iter([0.0, 10.0])
    clock = ScaledClock(60.0, wall=lambda: 1_000.0, monotonic=lambda: next(ticks))
    assert clock.now() == 1_000.0 + 600.0


def test_scaled_clock_rejects_non_positive_scale() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(0)


async def test_manual_clock_sleep_advances_instead_of_waiting() -> None:
    clock = ManualClock(start=100.0)
    await clock.sleep(3600)
    assert clock.now() == 3700.0


def test_truth_counts_oversold_units_and_orders() -> None:
    truth = TruthBook()
    truth.set({"A": 3, "B": 10})
    assert truth.accept([OrderLine(sku="A", quantity=2)]) == 0
    assert truth.accept([OrderLine(sku="A", quantity=2), OrderLine(sku="B", quantity=1)]) == 1
    assert truth.accept([OrderLine(sku="A", quantity=1)]) == 1
    assert (truth.oversold_units, truth.oversold_orders, truth.orders_accepted) == (2, 2, 3)
    assert truth.available("A") == -2


def test_truth_does_not_judge_skus_it_was_never_told() -> None:
    truth = TruthBook()
    assert truth.accept([OrderLine(sku="X", quantity=5)]) == 0
    assert truth.oversold_units == 0


class FakeShop:
    def __init__(self, stock: dict[str, int]) -> None:
        self.stock = stock

    def shown(self) -> dict[str, int]:
        return dict(self.stock)

    def shown_of(self, sku: str) -> int:
        return self.stock.get(sku, 0)

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        for line in lines:
            self.stock[line.sku] -= line.quantity
        return "1"


def test_shoppers_buy_only_what_is_shown() -> None:
    shop = FakeShop({"A": 2, "B": 0})
    shoppers = Shoppers(shop, TruthBook(), seed=1, max_quantity=5)
    bought = [shoppers.buy_once() for _ in range(5)]
    assert sum(line.quantity for line in bought if line) == 2
    assert shop.stock == {"A": 0, "B": 0}
    assert bought[-1] is None


class SoldOutShop(FakeShop):
    """Shows stock it no longer has (a write applied between looking and paying)."""

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        raise ValueError("not enough stock")


def test_an_order_the_platform_refuses_is_not_counted_or_told() -> None:
    truth = TruthBook()
    truth.set({"A": 1})
    shoppers = Shoppers(SoldOutShop({"A": 3}), truth, seed=1)
    heard: list[str] = []
    shoppers.listeners.append(lambda order_id, line: heard.append(order_id))
    assert shoppers.buy_once() is None
    assert (truth.orders_accepted, truth.available("A"), heard) == (0, 1, [])


class CountingShop(FakeShop):
    def __init__(self, stock: dict[str, int]) -> None:
        super().__init__(stock)
        self.listings = 0

    def shown(self) -> dict[str, int]:
        self.listings += 1
        return super().shown()


def test_shoppers_do_not_list_the_whole_store_per_order() -> None:
    shop = CountingShop({f"S{n}": 1_000 for n in range(500)})
    shoppers = Shoppers(shop, TruthBook(), seed=3, max_quantity=1)
    assert all(shoppers.buy_once() for _ in range(100))
    assert shop.listings == 1  # looked once; then a few SKUs per order
    # Once what it looked at is sold out, it looks again and finds what is left.
    shop.stock = {f"S{n}": 0 for n in range(500)} | {"LAST": 1}
    line = shoppers.buy_once()
    assert line is not None
    assert line.sku == "LAST"
    assert shoppers.buy_once() is None


class SlowShop(FakeShop):
    """Each order takes 4 ms of the shopper's time (a busy store)."""

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        time.sleep(0.004)
        return super().place_order(lines)


async def test_shoppers_keep_their_rate_even_when_orders_take_time() -> None:
    shop = SlowShop({"A": 10_000})
    shoppers = Shoppers(shop, TruthBook(), seed=1, rate=200.0, max_quantity=1)
    task = asyncio.create_task(shoppers.run())
    await asyncio.sleep(1.0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # Sleeping 1/rate after each order would give at most 1 / (0.005 + 0.004) = 111.
    assert 140 <= 10_000 - shop.stock["A"] <= 205


def test_storm_window_answers_429_only_inside_the_window() -> None:
    settings = FaultSettings(storm_429=Window(start_in_s=10, duration_s=5, retry_after_s=7))
    before, inside, after = (decide(settings, 0.0, t, CALM) for t in (9.9, 12.0, 15.0))
    assert before.action is Action.PROCEED
    assert (inside.action, inside.status, inside.retry_after_s) == (Action.FAIL, 429, 7)
    assert after.action is Action.PROCEED


def test_outage_beats_storm_and_can_reset_connections() -> None:
    settings = FaultSettings(
        storm_429=Window(duration_s=60), outage=Window(duration_s=60, mode="reset")
    )
    assert decide(settings, 0.0, 1.0, CALM).action is Action.RESET


def test_error_rates_are_cumulative_over_statuses() -> None:
    settings = FaultSettings(error_rates={500: 0.1, 503: 0.2})
    statuses = [
        decide(settings, 0, 0, Rolls(error=e, timeout=1, jitter=0.5)).status
        for e in (0.05, 0.15, 0.29, 0.31)
    ]
    assert statuses == [500, 503, 503, 200]


def test_timeouts_hang_and_latency_stays_within_jitter() -> None:
    settings = FaultSettings(timeout_rate=0.5, latency_ms=100, jitter_ms=20)
    verdict = decide(settings, 0, 0, Rolls(error=0.9, timeout=0.1, jitter=0.0))
    assert verdict.action is Action.HANG
    assert verdict.delay_s == pytest.approx(0.08)


def test_settings_parse_from_json_with_string_status_keys() -> None:
    settings = FaultSettings.model_validate({"error_rates": {"500": 0.1}})
    assert settings.error_rates == {500: 0.1}
    with pytest.raises(ValidationError):
        FaultSettings.model_validate({"timeout_rate": 2})
    with pytest.raises(ValidationError):
        FaultSettings.model_validate({"no_such_fault": 1})


def test_one_shot_responses_come_first_and_once() -> None:
    injector = FaultInjector(ManualClock(), FaultSettings(), seed=1)
    injector.next_response(status=429, retry_after_s=2)
    first, second = injector.verdict(), injector.verdict()
    assert (first.status, first.retry_after_s) == (429, 2)
    assert second.action is Action.PROCEED


def test_windows_count_from_when_settings_were_applied() -> None:
    clock = ManualClock(start=1_000.0)
    injector = FaultInjector(clock, FaultSettings(), seed=1)
    clock.advance(500)
    injector.apply(FaultSettings(outage=Window(duration_s=30)))
    assert injector.verdict().status == 503
    clock.advance(31)
    assert injector.verdict().action is Action.PROCEED
