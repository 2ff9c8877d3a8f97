"""The parts every sandbox shares: clock, faults, call log, truth and shoppers.

A platform sandbox builds one `SandboxCore` and runs its background work inside `running()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from omnistock.kit.sandbox.common.calls import CallLog
from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.faults import FaultInjector, FaultSettings
from omnistock.kit.sandbox.common.shoppers import Shop, Shoppers
from omnistock.kit.sandbox.common.truth import TruthBook

Worker = Callable[[], Coroutine[Any, Any, None]]

# Items an endpoint handled, set by the handler on `request.state` for the call log.
ITEMS_STATE_KEY = "sandbox_items"


class SandboxCore:
    """State and background work that do not depend on the platform."""

    def __init__(
        self,
        *,
        clock: SandboxClock,
        shop: Shop,
        seed: int,
        faults: FaultSettings | None = None,
        shopper_rate: float = 0.0,
        truth: TruthBook | None = None,
    ) -> None:
        self.clock = clock
        self.faults = FaultInjector(clock, faults or FaultSettings(), seed=seed)
        self.calls = CallLog()
        self.truth = truth or TruthBook()  # shared when several channels sell one stock
        self.shop = shop  # what shoppers buy from: the platform's store
        self.shoppers = Shoppers(shop, self.truth, seed=seed, rate=shopper_rate)

    @asynccontextmanager
    async def running(self, *workers: Worker) -> AsyncIterator[None]:
        """Run the shoppers and the platform's `workers` until the block exits."""
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(work()) for work in (self.shoppers.run, *workers)]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()

    def stats(self) -> dict[str, object]:
        return {
            "oversold_units": self.truth.oversold_units,
            "oversold_orders": self.truth.oversold_orders,
            "orders_accepted": self.truth.orders_accepted,
            "shopper_rate": self.shoppers.rate,
            "calls": self.calls.count(),
            "calls_by_operation": self.calls.by_operation(),
        }
