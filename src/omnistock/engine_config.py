"""The engine's TOML configuration: locations, SKUs, bundles, channel accounts, listings.

Validated strictly at start-up (unknown keys, wrong types and dangling references are a
ConfigError naming the place); turned into catalog values for the store."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from omnistock.adapters.registry import PLATFORMS
from omnistock.config import DEFAULT_DATABASE_URL
from omnistock.domain.account_settings import AccountSettings, OversellAction
from omnistock.domain.allocation import AllocationPolicy, PolicyOverride, effective_policy
from omnistock.domain.balance import ReservationPolicy
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.errors import ConfigError, DomainError, InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.domain.sync_plan import FirstSyncGuard


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PolicyConfig(_Strict):
    safety_buffer: int | None = None
    share: float | None = None
    max_shown: int | None = None
    zero_below: int | None = None
    locations: list[str] | None = None
    low_stock: int | None = None

    def as_override(self) -> PolicyOverride:
        locations = None if self.locations is None else frozenset(map(LocationId, self.locations))
        return PolicyOverride(
            safety_buffer=self.safety_buffer,
            share=self.share,
            max_shown=self.max_shown,
            zero_below=self.zero_below,
            locations=locations,
            low_stock=self.low_stock,
        )


class LocationConfig(_Strict):
    id: str
    name: str = ""


class ItemConfig(_Strict):
    sku: str
    name: str = ""


class BundleConfig(_Strict):
    sku: str
    components: dict[str, int]


class AccountConfig(BaseModel):
    # Beside the common keys, an account takes its platform's own settings (e.g. amazon's
    # marketplace_id), checked against the platform's settings model.
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    id: str
    platform: str
    base_url: str
    location: str  # where this account's orders are reserved and shipped from
    name: str = ""
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    # An order the ledger cannot cover: `cancel` it on the channel, or `keep` it (backorder).
    oversell: OversellAction = OversellAction.KEEP
    restock_on_refund: bool = False

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PLATFORMS:
            raise ValueError(f"unknown platform {value!r}; known: {', '.join(PLATFORMS)}")
        return value

    @model_validator(mode="after")
    def _platform_settings(self) -> Self:
        own = PLATFORMS[self.platform].settings.own_names()
        extra = self.model_extra or {}
        unknown = sorted(set(extra) - own)
        if unknown:
            known = ", ".join(sorted(own)) or "none"
            raise ValueError(
                f"unknown key {', '.join(unknown)} for platform {self.platform} "
                f"(its own settings: {known})"
            )
        for name, value in extra.items():
            if not isinstance(value, str):
                raise ValueError(f"{name}: must be a string")
        try:
            self.settings()
        except InvalidInputError as exc:
            raise ValueError(f"{exc.field}: {exc.problem}") from None
        return self

    def settings(self) -> AccountSettings:
        """The account's settings, as its platform's model reads them."""
        common = AccountSettings(
            base_url=self.base_url,
            location=LocationId(self.location),
            oversell=self.oversell,
            restock_on_refund=self.restock_on_refund,
        ).encode()
        own = {k: v for k, v in (self.model_extra or {}).items() if isinstance(v, str)}
        return PLATFORMS[self.platform].settings.of({**common, **own}, "settings")


class ListingConfig(_Strict):
    account: str
    sku: str
    external_ids: dict[str, str]
    id: str | None = None
    policy: PolicyConfig = Field(default_factory=PolicyConfig)


class GuardConfig(_Strict):
    """Refuse a first push (of the listings omnistock never wrote) that would zero more
    listings, or remove more units, than this, until `omnistock sync apply` approves it."""

    max_to_zero: int | None = Field(default=None, ge=0)
    max_units_removed: int | None = Field(default=None, ge=0)

    def guard(self) -> FirstSyncGuard:
        return FirstSyncGuard(
            max_to_zero=self.max_to_zero, max_units_removed=self.max_units_removed
        )


class EngineConfig(_Strict):
    database_url: str = DEFAULT_DATABASE_URL
    listen: str = "127.0.0.1:8700"
    reservation_policy: ReservationPolicy = ReservationPolicy.REJECT
    # A SKU no ledger event has told of is held back from pushing (the channel keeps what
    # it shows); true: push 0 for it, the ledger being the whole truth.
    zero_unknown_stock: bool = False
    first_sync_guard: GuardConfig | None = None
    locations: list[LocationConfig]
    items: list[ItemConfig] = Field(default_factory=list)
    bundles: list[BundleConfig] = Field(default_factory=list)
    accounts: list[AccountConfig] = Field(default_factory=list)
    listings: list[ListingConfig] = Field(default_factory=list)


def load_config(path: Path) -> EngineConfig:
    """Read and validate a TOML file; ConfigError names the file and each problem."""
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        config = EngineConfig.model_validate(raw, strict=False)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(raw, e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigError(f"{path}: {problems}") from None
    _check_references(config, path)
    return config


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """A problem's place, an account named by its id rather than its position."""
    accounts = raw.get("accounts")
    if len(loc) >= 2 and loc[0] == "accounts" and isinstance(loc[1], int):
        found = accounts[loc[1]] if isinstance(accounts, list) else None
        if isinstance(found, dict) and isinstance(found.get("id"), str):
            return f"account {found['id']!r}" + "".join(
                f".{x}" if i else f": {x}" for i, x in enumerate(loc[2:])
            )
    return ".".join(map(str, loc))


def _check_references(config: EngineConfig, path: Path) -> None:
    locations = {loc.id for loc in config.locations}
    accounts = {a.id for a in config.accounts}
    for account in config.accounts:
        if account.location not in locations:
            raise ConfigError(
                f"{path}: account {account.id}: unknown location {account.location!r}"
            )
    for listing in config.listings:
        if listing.account not in accounts:
            raise ConfigError(f"{path}: listing {listing.sku}: unknown account {listing.account!r}")


class Catalog:
    """The configuration as catalog values (validated by the domain's own rules)."""

    def __init__(self, config: EngineConfig) -> None:
        try:
            self.locations = [Location(id=LocationId(x.id), name=x.name) for x in config.locations]
            self.items = [Item(sku=Sku(x.sku), name=x.name) for x in config.items]
            self.bundles = [_bundle(b) for b in config.bundles]
            self.accounts = [_account(a) for a in config.accounts]
            self.listings = [_listing(x) for x in config.listings]
            values: list[Location | Item | Bundle | ChannelAccount | Listing] = [
                *self.locations,
                *self.items,
                *self.bundles,
                *self.accounts,
                *self.listings,
            ]
            for value in values:
                value.validate()
        except DomainError as exc:
            raise ConfigError(f"configuration: {exc}") from None


def _bundle(config: BundleConfig) -> Bundle:
    parts = tuple(BundleComponent(Sku(s), q) for s, q in sorted(config.components.items()))
    return Bundle(Sku(config.sku), parts)


def _account(config: AccountConfig) -> ChannelAccount:
    policy = effective_policy(AllocationPolicy(), config.policy.as_override())
    settings = config.settings().encode()
    return ChannelAccount(
        id=AccountId(config.id),
        platform=config.platform,
        name=config.name,
        policy=policy,
        settings=settings,
    )


def _listing(config: ListingConfig) -> Listing:
    return Listing(
        id=ListingId(config.id or f"{config.account}:{config.sku}"),
        account=AccountId(config.account),
        sku=Sku(config.sku),
        external_ids=dict(config.external_ids),
        override=config.policy.as_override(),
    )
