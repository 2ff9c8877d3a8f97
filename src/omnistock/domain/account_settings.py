"""What a channel account's settings mean, typed: where the adapter reaches the platform,
which location its orders reserve from, what to do with an order the ledger cannot cover,
and whether refunded units return to stock.

The catalog stores an account's settings as a map of names to text (a platform keeps its
own beside these); `AccountSettings.of` reads the known names, each checked, and a bad
value is an InvalidInputError naming the setting (at config load, and whenever an account
is validated before it is stored). Each platform names its model in the adapters'
registry: this one, or a subclass adding the platform's own settings (Amazon's
marketplace), which reads its fields in `_read` and writes them in `encode`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Self, TypeVar

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import LocationId, check_identifier

BASE_URL = "base_url"
LOCATION = "location"
OVERSELL = "oversell"
RESTOCK_ON_REFUND = "restock_on_refund"


class OversellAction(StrEnum):
    """An order the ledger could not cover: `keep` it (and show it), or `cancel` it on its
    channel."""

    KEEP = "keep"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSettings:
    base_url: str | None = None  # the platform's API root for this account
    location: LocationId | None = None  # where its orders are reserved and shipped from
    oversell: OversellAction = OversellAction.KEEP
    restock_on_refund: bool = False  # refunded units (not said otherwise) are sellable again

    @classmethod
    def of(cls, raw: Mapping[str, str], where: str = "account.settings") -> Self:
        """The typed settings in `raw`; InvalidInputError naming `where[name]` for a bad one.
        Names this model does not know are left to others (the stored map may hold them)."""
        return cls(**cls._read(raw, where))

    @classmethod
    def own_names(cls) -> frozenset[str]:
        """The settings this platform adds to the common ones (none for the base model)."""
        return frozenset(f.name for f in fields(cls)) - COMMON

    @classmethod
    def _read(cls, raw: Mapping[str, str], where: str) -> dict[str, Any]:
        base_url = raw.get(BASE_URL)
        location = raw.get(LOCATION)
        if location is not None:
            check_identifier(f"{where}[{LOCATION}]", location)
        return {
            "base_url": base_url or None,
            "location": None if location is None else LocationId(location),
            "oversell": _oversell(raw.get(OVERSELL), f"{where}[{OVERSELL}]"),
            "restock_on_refund": _flag(raw.get(RESTOCK_ON_REFUND), f"{where}[{RESTOCK_ON_REFUND}]"),
        }

    def as_model(self, model: type[S]) -> S:
        """These settings as the platform's `model` (read from their stored form when they
        were read as another, e.g. the common model)."""
        return self if isinstance(self, model) else model.of(self.encode())

    def encode(self) -> dict[str, str]:
        """The stored form (names to text), which `of` reads back to the same settings."""
        stored = {OVERSELL: self.oversell.value, RESTOCK_ON_REFUND: _text(self.restock_on_refund)}
        if self.base_url is not None:
            stored[BASE_URL] = self.base_url
        if self.location is not None:
            stored[LOCATION] = self.location
        return stored


COMMON = frozenset((BASE_URL, LOCATION, OVERSELL, RESTOCK_ON_REFUND))
S = TypeVar("S", bound=AccountSettings)


def _oversell(value: str | None, where: str) -> OversellAction:
    if value is None:
        return OversellAction.KEEP
    try:
        return OversellAction(value)
    except ValueError:
        choices = ", ".join(a.value for a in OversellAction)
        raise InvalidInputError(where, f"must be one of {choices}; got {value!r}") from None


def _flag(value: str | None, where: str) -> bool:
    # Empty is unset, as a TOML or form field left blank.
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise InvalidInputError(where, f"must be true or false; got {value!r}")
    return lowered == "true"


def _text(flag: bool) -> str:
    return "true" if flag else "false"
