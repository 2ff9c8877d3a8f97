"""Catalog entities and their validation."""

from __future__ import annotations

from typing import Any

import pytest

from omnistock.domain.allocation import NO_OVERRIDE, AllocationPolicy, PolicyOverride
from omnistock.domain.catalog import (
    MAX_NAME_LENGTH,
    MAX_SETTINGS,
    ChannelAccount,
    Item,
    Listing,
    Location,
)
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku


def account(**kw: Any) -> ChannelAccount:
    return ChannelAccount(**{"id": AccountId("acc-1"), "platform": "shopify", **kw})


def listing(**kw: Any) -> Listing:
    defaults = {"id": ListingId("l-1"), "account": AccountId("acc-1"), "sku": Sku("S-1")}
    return Listing(**{**defaults, **kw})


def raises_on(entity: Any, field: str) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        entity.validate()
    assert info.value.field == field
    return info.value


# --- locations and items ------------------------------------------------------------------


def test_valid_location_and_item() -> None:
    Location(id=LocationId("wh-1")).validate()
    Location(id=LocationId("wh-1"), name="Main warehouse, Lyon — dock 3").validate()
    Item(sku=Sku("S-1")).validate()
    Item(sku=Sku("S-1"), name="n" * MAX_NAME_LENGTH).validate()
    assert Location(id=LocationId("x")).name == ""
    assert Item(sku=Sku("x")).name == ""


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"id": ""}, "location.id"),
        ({"id": " wh"}, "location.id"),
        ({"id": 3}, "location.id"),
        ({"id": "wh", "name": "a\nb"}, "location.name"),
        ({"id": "wh", "name": "a\x00"}, "location.name"),
        ({"id": "wh", "name": "n" * (MAX_NAME_LENGTH + 1)}, "location.name"),
        ({"id": "wh", "name": None}, "location.name"),
        ({"id": "wh", "name": 5}, "location.name"),
    ],
)
def test_invalid_location(kw: dict[str, Any], field: str) -> None:
    error = raises_on(Location(**kw), field)
    if field.endswith("name"):
        assert error.problem == f"must be printable text of at most {MAX_NAME_LENGTH} characters"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"sku": ""}, "item.sku"),
        ({"sku": "s\t"}, "item.sku"),
        ({"sku": "s" * 129}, "item.sku"),
        ({"sku": "s", "name": "bad\x1bname"}, "item.name"),
        ({"sku": "s", "name": b"bytes"}, "item.name"),
    ],
)
def test_invalid_item(kw: dict[str, Any], field: str) -> None:
    raises_on(Item(**kw), field)


# --- channel accounts ---------------------------------------------------------------------


def test_valid_account() -> None:
    acc = account()
    acc.validate()
    assert acc.policy == AllocationPolicy()
    assert acc.settings == {}
    assert acc.name == ""
    account(
        platform="amazon_sp",
        name="EU store",
        policy=AllocationPolicy(share=0.5),
        settings={"region": "eu", "token-ref": "vault:x", "empty": ""},
    ).validate()
    account(platform="p" * 32).validate()
    account(settings={f"k{i}": "v" for i in range(MAX_SETTINGS)}).validate()
    account(settings={"long": "v" * 2000}).validate()


def test_accounts_do_not_share_default_settings() -> None:
    assert account().settings is not account().settings


@pytest.mark.parametrize(
    "platform",
    ["Shopify", "SHOPIFY", "shop-ify", "shop ify", "2shop", "_", "", " shopify", "p" * 33, 1],
)
def test_platform_must_be_lower_case_identifier(platform: object) -> None:
    raises_on(account(platform=platform), "account.platform")


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"id": ""}, "account.id"),
        ({"id": "acc\x00"}, "account.id"),
        ({"id": None}, "account.id"),
        ({"name": "x\x7f"}, "account.name"),
        ({"name": "n" * (MAX_NAME_LENGTH + 1)}, "account.name"),
        ({"policy": AllocationPolicy(share=2.0)}, "share"),
        ({"policy": AllocationPolicy(locations=frozenset())}, "locations"),
        ({"settings": {f"k{i}": "v" for i in range(MAX_SETTINGS + 1)}}, "account.settings"),
        ({"settings": {"": "v"}}, "account.settings key"),
        ({"settings": {" k": "v"}}, "account.settings key"),
        ({"settings": {"k\n": "v"}}, "account.settings key"),
        ({"settings": {1: "v"}}, "account.settings key"),
        ({"settings": {"k": 1}}, "account.settings[k]"),
        ({"settings": {"k": None}}, "account.settings[k]"),
        ({"settings": {"k": "v" * 2001}}, "account.settings[k]"),
    ],
)
def test_invalid_account(kw: dict[str, Any], field: str) -> None:
    raises_on(account(**kw), field)


def test_too_many_settings_message() -> None:
    error = raises_on(
        account(settings={f"k{i}": "v" for i in range(MAX_SETTINGS + 1)}), "account.settings"
    )
    assert error.problem == f"at most {MAX_SETTINGS} entries"


def test_account_fields_checked_in_order() -> None:
    raises_on(account(id="", platform="BAD", name="\x00"), "account.id")
    raises_on(account(platform="BAD", name="\x00"), "account.platform")


# --- listings -----------------------------------------------------------------------------


def test_valid_listing() -> None:
    item = listing()
    item.validate()
    assert item.override is NO_OVERRIDE
    assert item.external_ids == {}
    listing(
        external_ids={"product_id": "123", "variant_id": "456"},
        override=PolicyOverride(share=0.5),
    ).validate()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"id": ""}, "listing.id"),
        ({"id": 1}, "listing.id"),
        ({"account": " acc"}, "listing.account"),
        ({"account": None}, "listing.account"),
        ({"sku": "s\x00"}, "listing.sku"),
        ({"sku": ""}, "listing.sku"),
        ({"external_ids": {"": "1"}}, "listing.external_ids key"),
        ({"external_ids": {"id": 123}}, "listing.external_ids[id]"),
        ({"external_ids": {str(i): "v" for i in range(MAX_SETTINGS + 1)}}, "listing.external_ids"),
    ],
)
def test_invalid_listing(kw: dict[str, Any], field: str) -> None:
    raises_on(listing(**kw), field)


def test_settings_must_be_a_mapping() -> None:
    account = ChannelAccount(id=AccountId("a"), platform="shopify", settings=["x"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as info:
        account.validate()
    assert info.value.field == "account.settings"


def test_listing_override_is_validated() -> None:
    listing = Listing(
        id=ListingId("l"),
        account=AccountId("a"),
        sku=Sku("s"),
        override=PolicyOverride(share=2.0),
    )
    with pytest.raises(InvalidInputError) as info:
        listing.validate()
    assert info.value.field == "share"


def test_platform_must_be_ascii() -> None:
    with pytest.raises(InvalidInputError) as info:
        ChannelAccount(id=AccountId("a"), platform="ébay").validate()
    assert info.value.field == "account.platform"
