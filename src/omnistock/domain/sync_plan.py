"""A first sync's plan: for each listing, what the channel shows now and what omnistock
would write, before anything is written.

Pure: the caller hands in the listings with their effective policies, the ledger's
balances, the bundles and what the channel showed when read. The same plan serves
`omnistock sync plan`, `run --dry-run`, `sync apply`'s summary and the first-sync guard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from omnistock.domain.bundles import Bundle
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.domain.planning import Balances, ListingPlan, plan_desired


class Change(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    TO_ZERO = "to_zero"  # a decrease to 0: the listing stops selling
    UNCHANGED = "unchanged"
    HELD = "held"  # not written: no stock known for its SKU
    UNREAD = "unread"  # the channel did not say what it shows (missing, or not managed)


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    listing: ListingId
    sku: Sku
    shown: int | None  # what the channel shows now (None: it did not say)
    desired: int | None  # what omnistock would write (None: held back, nothing written)
    change: Change

    @property
    def delta(self) -> int:
        """Units the write adds (negative: removes); 0 when nothing is known or written."""
        if self.shown is None or self.desired is None:
            return 0
        return self.desired - self.shown


@dataclass(frozen=True, slots=True)
class SyncPlan:
    account: AccountId
    writes: tuple[PlannedWrite, ...]  # one per listing, in listing order

    def counts(self) -> dict[Change, int]:
        found = Counter(w.change for w in self.writes)
        return {change: found.get(change, 0) for change in Change}

    def to_write(self) -> int:
        """Listings whose write changes what the channel shows (or may: it did not say)."""
        counts = self.counts()
        moving = (Change.INCREASE, Change.DECREASE, Change.TO_ZERO, Change.UNREAD)
        return sum(counts[c] for c in moving)

    def largest(self, n: int) -> list[PlannedWrite]:
        """The `n` writes that move the most units, decreases first on a tie."""
        moving = [w for w in self.writes if w.delta]
        return sorted(moving, key=lambda w: (-abs(w.delta), w.delta, w.listing))[:n]


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstSyncGuard:
    """Limits on a first push: more listings to zero, or more units removed, than these
    and the push is refused until an operator approves the plan (None: no limit)."""

    max_to_zero: int | None = None
    max_units_removed: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_to_zero", "max_units_removed"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInputError(f"first_sync_guard.{name}", f"must be >= 0, got {value}")

    def exceeded(self, plan: SyncPlan) -> list[str]:
        """Why `plan` breaks the guard (empty: it does not)."""
        why = []
        to_zero = plan.counts()[Change.TO_ZERO]
        if self.max_to_zero is not None and to_zero > self.max_to_zero:
            why.append(f"{to_zero} listings would go to zero (limit {self.max_to_zero})")
        removed = -sum(w.delta for w in plan.writes if w.delta < 0)
        if self.max_units_removed is not None and removed > self.max_units_removed:
            why.append(f"{removed} units would be removed (limit {self.max_units_removed})")
        return why


def stock_known(sku: Sku, balances: Balances, bundles: Mapping[Sku, Bundle]) -> bool:
    """Whether any ledger event has told of `sku`'s stock (for a bundle: of every one of
    its components), i.e. it has a balance somewhere."""
    bundle = bundles.get(sku)
    if bundle is None or not bundle.components:
        return bool(balances.get(sku))
    return all(balances.get(c.sku) for c in bundle.components)


def plan_first_sync(
    account: AccountId,
    listings: Sequence[ListingPlan],
    balances: Balances,
    bundles: Mapping[Sku, Bundle],
    shown: Mapping[ListingId, int | None],
    *,
    hold_unknown: bool = True,
) -> SyncPlan:
    """What a first push of `listings` would write over what the channel `shown`."""
    desired = {c.listing: c.quantity for c in plan_desired(listings, balances, bundles, {}, {})}
    writes = (_write(p, balances, bundles, shown, desired, hold_unknown) for p in listings)
    return SyncPlan(account, tuple(writes))


def _write(
    plan: ListingPlan,
    balances: Balances,
    bundles: Mapping[Sku, Bundle],
    shown: Mapping[ListingId, int | None],
    desired: Mapping[ListingId, int],
    hold_unknown: bool,
) -> PlannedWrite:
    now = shown.get(plan.listing)
    if hold_unknown and not stock_known(plan.sku, balances, bundles):
        return PlannedWrite(plan.listing, plan.sku, now, None, Change.HELD)
    quantity = desired[plan.listing]  # with no current value given, every listing is planned
    return PlannedWrite(plan.listing, plan.sku, now, quantity, _change(now, quantity))


def _change(shown: int | None, desired: int) -> Change:
    if shown is None:
        return Change.UNREAD
    if desired == shown:
        return Change.UNCHANGED
    if desired > shown:
        return Change.INCREASE
    return Change.TO_ZERO if desired == 0 else Change.DECREASE
