"""The catalog: locations, SKUs, channel accounts and listings, with their validation.

A listing links one SKU to the platform's own identifiers on one channel account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.allocation import (
    NO_OVERRIDE,
    AllocationPolicy,
    PolicyOverride,
    effective_policy,
)
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku, check_identifier

MAX_NAME_LENGTH = 200
MAX_SETTINGS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    id: LocationId
    name: str = ""

    def validate(self) -> None:
        check_identifier("location.id", self.id)
        _check_name("location.name", self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """A SKU the merchant stocks (a bundle is an Item whose stock is derived)."""

    sku: Sku
    name: str = ""

    def validate(self) -> None:
        check_identifier("item.sku", self.sku)
        _check_name("item.name", self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelAccount:
    """One store or seller account on one platform, with its allocation policy."""

    id: AccountId
    platform: str
    name: str = ""
    policy: AllocationPolicy = field(default_factory=AllocationPolicy)
    settings: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        check_identifier("account.id", self.id)
        check_identifier("account.platform", self.platform, 32)
        platform = self.platform
        if not (platform.isascii() and platform.isidentifier() and platform.islower()):
            raise InvalidInputError("account.platform", "must be a lower-case ASCII name")
        _check_name("account.name", self.name)
        self.policy.validate()
        _check_mapping("account.settings", self.settings)
        self.options()

    def options(self) -> AccountSettings:
        """The known settings, typed; InvalidInputError naming a bad one."""
        return AccountSettings.of(self.settings)


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """A SKU on one channel account, named by the platform's own identifiers."""

    id: ListingId
    account: AccountId
    sku: Sku
    external_ids: Mapping[str, str] = field(default_factory=dict)
    override: PolicyOverride = NO_OVERRIDE

    def validate(self) -> None:
        check_identifier("listing.id", self.id)
        check_identifier("listing.account", self.account)
        check_identifier("listing.sku", self.sku)
        _check_mapping("listing.external_ids", self.external_ids)
        effective_policy(AllocationPolicy(), self.override)  # raises on out-of-range fields


def _check_name(field_name: str, value: object) -> None:
    if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH or not value.isprintable():
        raise InvalidInputError(
            field_name, f"must be printable text of at most {MAX_NAME_LENGTH} characters"
        )


def _check_mapping(field_name: str, value: Mapping[str, str]) -> None:
    if not isinstance(value, Mapping):
        raise InvalidInputError(field_name, "must be a mapping of names to text")
    if len(value) > MAX_SETTINGS:
        raise InvalidInputError(field_name, f"at most {MAX_SETTINGS} entries")
    for key, item in value.items():
        check_identifier(f"{field_name} key", key)
        if not isinstance(item, str) or len(item) > 2_000 or not item.isprintable():
            raise InvalidInputError(
                f"{field_name}[{key}]", "must be printable text of at most 2000 characters"
            )
