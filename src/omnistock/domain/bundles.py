"""Bundles (kits): SKUs made of components, whose availability is derived, never stored.

A component can sit in many bundles; an order for a bundle moves its components' stock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import EventType, LedgerEvent
from omnistock.domain.ids import MAX_QUANTITY, Sku, check_identifier, check_quantity

MAX_COMPONENTS = 50
_MOVES_COMPONENTS = frozenset(
    {EventType.RESERVED, EventType.RELEASED, EventType.FULFILLED, EventType.RETURNED}
)


@dataclass(frozen=True, slots=True)
class BundleComponent:
    sku: Sku
    quantity: int  # units of the component in one bundle


@dataclass(frozen=True, slots=True)
class Bundle:
    sku: Sku
    components: tuple[BundleComponent, ...]

    def validate(self) -> None:
        """Raise InvalidInputError for an empty, self-referencing or repeated component list."""
        check_identifier("bundle.sku", self.sku)
        if not self.components:
            raise InvalidInputError("bundle.components", "must not be empty")
        if len(self.components) > MAX_COMPONENTS:
            raise InvalidInputError("bundle.components", f"at most {MAX_COMPONENTS} allowed")
        seen: set[str] = set()
        for component in self.components:
            check_identifier("bundle.components.sku", component.sku)
            check_quantity("bundle.components.quantity", component.quantity, minimum=1)
            if component.sku == self.sku:
                raise InvalidInputError("bundle.components", "a bundle cannot contain itself")
            if component.sku in seen:
                raise InvalidInputError("bundle.components", f"{component.sku!r} is repeated")
            seen.add(component.sku)


def bundle_available(bundle: Bundle, available: Callable[[Sku], int]) -> int:
    """How many whole bundles the components' availability makes (never below 0)."""
    return max(min(available(c.sku) // c.quantity for c in bundle.components), 0)


def moves_components(event: LedgerEvent) -> bool:
    """Whether an event on a bundle SKU is carried by its components (orders are)."""
    return event.type in _MOVES_COMPONENTS


def expand(event: LedgerEvent, bundle: Bundle) -> tuple[LedgerEvent, ...]:
    """The component events that carry an order event placed on a bundle SKU."""
    expanded = []
    for component in bundle.components:
        quantity = event.quantity * component.quantity
        if quantity > MAX_QUANTITY:
            raise InvalidInputError("quantity", f"bundle expansion exceeds {MAX_QUANTITY}")
        expanded.append(replace(event, sku=component.sku, quantity=quantity))
    return tuple(expanded)
