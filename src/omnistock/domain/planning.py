"""Planning: which listings a committed change affects, and what each should now show.

Pure functions over balances and the catalog; the store calls them in the same transaction
that records the events, so desired quantities never lag the ledger."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from omnistock.domain.allocation import AllocationPolicy, desired_from_total, feeding_available
from omnistock.domain.balance import Balance
from omnistock.domain.bundles import Bundle, bundle_available
from omnistock.domain.ids import ListingId, LocationId, Sku

Balances = Mapping[Sku, Mapping[LocationId, Balance]]


@dataclass(frozen=True, slots=True)
class ListingPlan:
    """What the planner needs to know of one listing."""

    listing: ListingId
    sku: Sku
    policy: AllocationPolicy  # the effective policy (account policy + listing override)


class DesiredChange(NamedTuple):
    """A listing's new desired quantity and the SKU version it reflects.

    A named tuple, not a dataclass: an append plans a few listings per event, and the store
    writes these tuples as they are, with no row built from each."""

    listing: ListingId
    quantity: int
    sequence: int
    priority: int


class Priority:
    """Lower goes first: changes that prevent oversells before those that only add stock."""

    OUT_OF_STOCK = 0
    LOW_STOCK = 1
    DECREASE = 2
    INCREASE = 3


def affected_skus(changed: Iterable[Sku], containing: Mapping[Sku, Iterable[Sku]]) -> set[Sku]:
    """The changed SKUs plus every bundle that contains one of them."""
    result = set(changed)
    for sku in tuple(result):
        result.update(containing.get(sku, ()))
    return result


def availability_changed(before: Balances, after: Balances) -> set[Sku]:
    """The SKUs of `after` whose available quantity moved at some location.

    A shipment moves on hand and reserved together: no listing needs re-planning."""
    changed = set()
    for sku, at in after.items():
        old = before.get(sku, {})
        for location, balance in at.items():
            previous = old.get(location)
            if (0 if previous is None else previous.available) != balance.available:
                changed.add(sku)
                break
    return changed


def availability(
    sku: Sku, balances: Balances, bundles: Mapping[Sku, Bundle]
) -> dict[LocationId, int]:
    """Available units of `sku` per location; a bundle's is derived from its components."""
    bundle = bundles.get(sku)
    if bundle is None:
        return {loc: b.available for loc, b in balances.get(sku, {}).items()}
    locations = {loc for c in bundle.components for loc in balances.get(c.sku, {})}
    return {loc: _bundle_at(bundle, balances, loc) for loc in locations}


def _bundle_at(bundle: Bundle, balances: Balances, location: LocationId) -> int:
    def component(sku: Sku) -> int:
        balance = balances.get(sku, {}).get(location)
        return 0 if balance is None else balance.available

    return bundle_available(bundle, component)


def priority(previous: int | None, desired: int, low_stock: int) -> int:
    """How urgent pushing `desired` is, given what the listing showed before."""
    if desired == 0:
        return Priority.OUT_OF_STOCK
    if desired <= low_stock:
        return Priority.LOW_STOCK
    if previous is not None and desired < previous:
        return Priority.DECREASE
    return Priority.INCREASE


class _Availability:
    """Availability per SKU, computed once per planning pass (many listings share a SKU)."""

    def __init__(self, balances: Balances, bundles: Mapping[Sku, Bundle]) -> None:
        self._balances = balances
        self._bundles = bundles
        self._at: dict[Sku, dict[LocationId, int]] = {}
        self._totals: dict[Sku, int] = {}

    def feeding(self, sku: Sku, policy: AllocationPolicy) -> int:
        if policy.locations is not None:
            return feeding_available(policy, self._per_location(sku))
        total = self._totals.get(sku)
        if total is None:
            total = self._totals[sku] = max(sum(self._per_location(sku).values()), 0)
        return total

    def _per_location(self, sku: Sku) -> dict[LocationId, int]:
        at = self._at.get(sku)
        if at is None:
            at = self._at[sku] = availability(sku, self._balances, self._bundles)
        return at


def plan_desired(
    listings: Iterable[ListingPlan],
    balances: Balances,
    bundles: Mapping[Sku, Bundle],
    versions: Mapping[Sku, int],
    current: Mapping[ListingId, int],
    shown: Mapping[ListingId, int] | None = None,
) -> list[DesiredChange]:
    """The listings whose desired quantity differs from `current`, with the new value.

    Priority compares the new value with what the channel `shown` (last pushed), falling
    back to the previous desired quantity for listings never pushed."""
    changes = []
    feeding = _Availability(balances, bundles).feeding
    for plan in listings:
        policy = plan.policy
        desired = desired_from_total(policy, feeding(plan.sku, policy))
        previous = current.get(plan.listing)
        if desired != previous:
            before = previous if shown is None else shown.get(plan.listing, previous)
            urgency = priority(before, desired, policy.low_stock)
            changes.append(DesiredChange(plan.listing, desired, versions.get(plan.sku, 0), urgency))
    return changes
