"""A batch of catalog edits applied together (a catalog file's rows), and what applying it did.

Pure values: the file format turns rows into a batch, the ledger applies it in one transaction
and counts, per kind, what it created, updated or found already as the batch says."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride, effective_policy
from omnistock.domain.bundles import Bundle
from omnistock.domain.catalog import Item, Location
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku, check_identifier

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CatalogKind(StrEnum):
    """The kinds of catalog record a file holds, in the order they are applied."""

    LOCATION = "location"
    ITEM = "item"
    BUNDLE = "bundle"
    ACCOUNT_POLICY = "account_policy"
    LISTING_OVERRIDE = "listing_override"


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """The whole allocation policy of an existing channel account."""

    account: AccountId
    policy: AllocationPolicy


@dataclass(frozen=True, slots=True)
class ListingOverride:
    """The whole override of an existing listing (empty: the account's policy applies)."""

    listing: ListingId
    override: PolicyOverride


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogBatch:
    """Catalog records to apply all together; each key appears at most once per kind."""

    locations: tuple[Location, ...] = ()
    items: tuple[Item, ...] = ()
    bundles: tuple[Bundle, ...] = ()
    account_policies: tuple[AccountPolicy, ...] = ()
    listing_overrides: tuple[ListingOverride, ...] = ()

    def validate(self) -> None:
        """Raise InvalidInputError naming the first malformed record's field."""
        records: tuple[Location | Item | Bundle, ...] = (
            *self.locations,
            *self.items,
            *self.bundles,
        )
        for record in records:
            record.validate()
        for entry in self.account_policies:
            check_identifier("account", entry.account)
            entry.policy.validate()
        for override in self.listing_overrides:
            check_identifier("listing", override.listing)
            effective_policy(AllocationPolicy(), override.override)  # raises on a bad field


@dataclass(frozen=True, slots=True, kw_only=True)
class EditCounts:
    """Of one kind's records: how many were new, changed, or already as the batch says."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def diff(wanted: Mapping[K, V], stored: Mapping[K, V]) -> tuple[list[K], EditCounts]:
    """The keys whose wanted value differs from the stored one (new keys included), in
    `wanted`'s order, and the counts."""
    changed = [key for key, value in wanted.items() if stored.get(key) != value]
    created = sum(1 for key in changed if key not in stored)
    counts = EditCounts(
        created=created, updated=len(changed) - created, unchanged=len(wanted) - len(changed)
    )
    return changed, counts


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogIndex:
    """The ids a catalog holds, against which a batch's references are checked."""

    locations: frozenset[LocationId]
    skus: frozenset[Sku]
    bundles: Mapping[Sku, frozenset[Sku]]  # each bundle's component SKUs
    stocked: frozenset[Sku]  # SKUs holding stock of their own (on hand or reserved)
    accounts: frozenset[AccountId]
    listings: frozenset[ListingId]
