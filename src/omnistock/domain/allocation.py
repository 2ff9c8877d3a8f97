"""Allocation: how much of the available stock each listing shows on its channel.

A policy belongs to a channel account and can be overridden per listing; a pure function
maps the availability of the locations that feed a listing to its desired quantity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import LocationId, check_identifier, check_quantity

_SHARE_SCALE = 10_000  # shares are applied in basis points so 0.29 * 100 gives 29, not 28


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationPolicy:
    """What a channel account (or one listing) shows of the available stock."""

    safety_buffer: int = 0
    share: float = 1.0
    max_shown: int | None = None
    zero_below: int = 0
    locations: frozenset[LocationId] | None = None  # None: every location feeds it
    low_stock: int = 3  # pushes that reach this level go first

    def validate(self) -> None:
        """Raise InvalidInputError naming the first field out of range."""
        check_quantity("safety_buffer", self.safety_buffer, minimum=0)
        share_ok = isinstance(self.share, int | float) and not isinstance(self.share, bool)
        if not share_ok or not 0.0 <= self.share <= 1.0:
            raise InvalidInputError("share", "must be a number between 0 and 1")
        if self.max_shown is not None:
            check_quantity("max_shown", self.max_shown, minimum=0)
        check_quantity("zero_below", self.zero_below, minimum=0)
        check_quantity("low_stock", self.low_stock, minimum=0)
        if self.locations is not None:
            if not self.locations:
                raise InvalidInputError("locations", "must name at least one location")
            for location in self.locations:
                check_identifier("locations", location)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyOverride:
    """Per-listing exceptions to the account's policy; None keeps the account's value."""

    safety_buffer: int | None = None
    share: float | None = None
    max_shown: int | None = None
    zero_below: int | None = None
    locations: frozenset[LocationId] | None = None
    low_stock: int | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


NO_OVERRIDE = PolicyOverride()


def effective_policy(account: AllocationPolicy, override: PolicyOverride) -> AllocationPolicy:
    """The account's policy with the listing's overrides laid over it."""
    changes = {f.name: getattr(override, f.name) for f in fields(override)}
    merged = replace(account, **{k: v for k, v in changes.items() if v is not None})
    merged.validate()
    return merged


def feeding_available(policy: AllocationPolicy, available: Mapping[LocationId, int]) -> int:
    """Units available across the locations that feed the listing (never below 0)."""
    if policy.locations is None:
        total = sum(available.values())
    else:
        total = sum(available.get(loc, 0) for loc in policy.locations)
    return max(total, 0)


def desired_quantity(policy: AllocationPolicy, available: Mapping[LocationId, int]) -> int:
    """The quantity a listing should show, given availability per location."""
    return desired_from_total(policy, feeding_available(policy, available))


def desired_from_total(policy: AllocationPolicy, total: int) -> int:
    """The quantity a listing should show when `total` units feed it."""
    qty = total - policy.safety_buffer
    if qty <= 0:
        return 0
    if policy.share != 1.0:
        qty = qty * round(policy.share * _SHARE_SCALE) // _SHARE_SCALE
    if policy.max_shown is not None:
        qty = min(qty, policy.max_shown)
    return 0 if qty < policy.zero_below else qty
