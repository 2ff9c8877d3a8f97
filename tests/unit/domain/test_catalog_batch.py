"""Catalog batches: their validation, and the diff that tells created, updated and unchanged."""

from __future__ import annotations

import pytest

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.catalog_batch import (
    AccountPolicy,
    CatalogBatch,
    EditCounts,
    ListingOverride,
    diff,
)
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku


def _refused(batch: CatalogBatch) -> str:
    with pytest.raises(InvalidInputError) as info:
        batch.validate()
    return info.value.field


def test_a_well_formed_batch_validates() -> None:
    CatalogBatch(
        locations=(Location(id=LocationId("wh1")),),
        items=(Item(sku=Sku("A")), Item(sku=Sku("K"))),
        bundles=(Bundle(Sku("K"), (BundleComponent(Sku("A"), 2),)),),
        account_policies=(AccountPolicy(AccountId("shop"), AllocationPolicy(share=0.5)),),
        listing_overrides=(ListingOverride(ListingId("shop:A"), PolicyOverride(max_shown=3)),),
    ).validate()


def test_each_kind_of_malformed_record_is_refused_by_field() -> None:
    assert _refused(CatalogBatch(locations=(Location(id=LocationId(" x")),))) == "location.id"
    assert _refused(CatalogBatch(items=(Item(sku=Sku("A"), name="\n"),))) == "item.name"
    assert _refused(CatalogBatch(bundles=(Bundle(Sku("K"), ()),))) == "bundle.components"
    bad_account = AccountPolicy(AccountId(""), AllocationPolicy())
    assert _refused(CatalogBatch(account_policies=(bad_account,))) == "account"
    bad_share = AccountPolicy(AccountId("shop"), AllocationPolicy(share=2.0))
    assert _refused(CatalogBatch(account_policies=(bad_share,))) == "share"
    bad_listing = ListingOverride(ListingId("\t"), PolicyOverride())
    assert _refused(CatalogBatch(listing_overrides=(bad_listing,))) == "listing"
    bad_override = ListingOverride(ListingId("l"), PolicyOverride(zero_below=-1))
    assert _refused(CatalogBatch(listing_overrides=(bad_override,))) == "zero_below"


def test_diff_counts_new_changed_and_equal_keys_in_wanted_order() -> None:
    changed, counts = diff({"c": 3, "a": 1, "b": 20}, {"a": 1, "b": 2, "z": 9})
    assert changed == ["c", "b"]
    assert counts == EditCounts(created=1, updated=1, unchanged=1)


def test_diff_of_nothing_is_nothing() -> None:
    assert diff({}, {"a": 1}) == ([], EditCounts())
