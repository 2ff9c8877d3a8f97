"""The merchant's true stock as the harness reports it, and the oversell it reveals.

The sandbox cannot know the merchant's ledger, so the harness sets it; accepted orders draw it down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    """One SKU and quantity in an order placed on the channel."""

    sku: str
    quantity: int


class TruthBook:
    """True available stock per SKU and the oversold counters.

    A SKU whose truth was never set is not judged: the harness did not claim to know it.
    """

    def __init__(self) -> None:
        self._available: dict[str, int] = {}
        self.oversold_units = 0
        self.oversold_orders = 0
        self.orders_accepted = 0

    def set(self, levels: Mapping[str, int]) -> None:
        self._available.update(levels)

    def available(self, sku: str) -> int | None:
        return self._available.get(sku)

    def snapshot(self) -> dict[str, int]:
        return dict(self._available)

    def accept(self, lines: Sequence[OrderLine]) -> int:
        """Count an accepted order; return the units it oversold."""
        short = sum(self._draw(line) for line in lines)
        self.orders_accepted += 1
        self.oversold_units += short
        self.oversold_orders += 1 if short else 0
        return short

    def _draw(self, line: OrderLine) -> int:
        known = self._available.get(line.sku)
        if known is None:
            return 0
        self._available[line.sku] = known - line.quantity
        return min(line.quantity, max(line.quantity - known, 0))
