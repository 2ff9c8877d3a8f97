"""Simulated shoppers who buy only what the channel currently shows.

Each order is also drawn from the harness's truth, so the sandbox can count what was oversold.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from omnistock.kit.sandbox.common.truth import OrderLine, TruthBook

BROWSE_EVERY_S = 1.0
PICKS_BEFORE_BROWSING = 4


class Shop(Protocol):
    """The storefront a platform sandbox exposes to its shoppers."""

    def shown(self) -> Mapping[str, int]:
        """Quantity a shopper can buy now, per SKU; SKUs showing 0 may be omitted."""
        ...

    def shown_of(self, sku: str) -> int:
        """What one SKU shows now (0 when it is not on show)."""
        ...

    def place_order(self, lines: Sequence[OrderLine]) -> str:
        """Accept a paid order, reducing the channel's stock; returns the platform order id.
        Raises ValueError when the channel does not have the stock (checkout refuses)."""
        ...


class Shoppers:
    """Places orders at `rate` orders per real second (0 = stopped), from a seeded RNG.

    The rate is in wall-clock time so a demo's load does not change with the time scale.
    """

    def __init__(
        self,
        shop: Shop,
        truth: TruthBook,
        *,
        seed: int,
        rate: float = 0.0,
        max_quantity: int = 3,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._shop = shop
        self._truth = truth
        self._rng = random.Random(seed)
        self._max_quantity = max_quantity
        self._sleep = sleep
        self._wake = asyncio.Event()
        self.rate = 0.0
        self.set_rate(rate)
        # Called with each order's id (as the platform's API names it) and its line.
        self.listeners: list[Callable[[str, OrderLine], None]] = []
        self._browsed: list[str] = []  # the SKUs on show when last looked at
        self._browsed_at = -math.inf
        # What this channel's shoppers bought beyond the merchant's real stock.
        self.oversold_units = 0
        self.oversold_orders = 0

    def set_rate(self, rate: float) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0")
        self.rate = rate
        if rate > 0:
            self._wake.set()
        else:
            self._wake.clear()

    def buy_once(self) -> OrderLine | None:
        """Place one order for a random shown SKU; None when nothing is on show.

        Listing the whole store per order cost more than the order (thousands of SKUs at
        hundreds of orders/s), so shoppers look at the store's list once a second and at
        a few random SKUs of it per order, and list it again when those are sold out."""
        picked = self._pick()
        if picked is None:
            return None
        sku, qty = picked
        line = OrderLine(sku=sku, quantity=self._rng.randint(1, min(qty, self._max_quantity)))
        try:
            order_id = self._shop.place_order([line])
        except ValueError:
            return None  # sold out between looking and paying: the platform refused it
        short = self._truth.accept([line])
        self.oversold_units += short
        self.oversold_orders += 1 if short else 0
        for listener in self.listeners:
            listener(order_id, line)
        return line

    def _pick(self) -> tuple[str, int] | None:
        now = time.monotonic()
        if now - self._browsed_at >= BROWSE_EVERY_S:
            self._browse(now)
        for _ in range(PICKS_BEFORE_BROWSING if self._browsed else 0):
            sku = self._rng.choice(self._browsed)
            qty = self._shop.shown_of(sku)
            if qty > 0:
                return sku, qty
        self._browse(now)
        shown = [(sku, qty) for sku, qty in self._shop.shown().items() if qty > 0]
        return self._rng.choice(shown) if shown else None

    def _browse(self, now: float) -> None:
        # The store's own order is stable, so the seeded choices are reproducible.
        self._browsed = [sku for sku, qty in self._shop.shown().items() if qty > 0]
        self._browsed_at = now

    async def run(self) -> None:
        """Shop until cancelled, idling while the rate is 0. Orders fall due on a schedule
        (one every 1/rate seconds), so the time an order takes does not lower the rate; a
        backlog of more than a second is dropped rather than bought in a burst."""
        due: float | None = None
        while True:
            await self._wake.wait()
            if self.rate <= 0:
                due = None
                continue
            now = time.monotonic()
            due = now if due is None or due < now - 1.0 else due
            due += 1.0 / self.rate
            await self._sleep(max(due - time.monotonic(), 0.0))
            if self.rate > 0:
                self.buy_once()
