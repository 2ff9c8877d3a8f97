"""Pure validation of request parameters and bodies, following WordPress's REST schema rules.

Integers accept numeric strings ("7"), booleans "true"/"1"; anything else is rest_invalid_param.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from omnistock.kit.sandbox.woocommerce.errors import WooApiError, invalid_param

BACKORDERS = ("no", "notify", "yes")
STOCK_STATUSES = ("instock", "outofstock", "onbackorder")

T = TypeVar("T")


def as_integer(name: str, value: object) -> int:
    """WordPress's `rest_is_integer`: an int, an integral float, or a numeric string."""
    if isinstance(value, bool):
        raise invalid_param(name, f"{name} is not of type integer.")
    if isinstance(value, int):
        return value
    number = _number(value)
    if number is None or number != int(number):
        raise invalid_param(name, f"{name} is not of type integer.")
    return int(number)


def _number(value: object) -> float | None:
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_boolean(name: str, value: object) -> bool:
    """WordPress's `rest_is_boolean`: true/false, "true"/"false", "1"/"0", 1/0."""
    if isinstance(value, bool):
        return value
    if value in (1, "1", "true"):
        return True
    if value in (0, "0", "false"):
        return False
    raise invalid_param(name, f"{name} is not of type boolean.")


def as_enum(name: str, value: object, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise invalid_param(name, f"{name} is not one of {', '.join(options)}.")
    return value


def as_string(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise invalid_param(name, f"{name} is not of type string.")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class StockPatch:
    """The writable fields the sandbox honours; None means "not sent"."""

    sku: str | None = None
    name: str | None = None
    manage_stock: bool | None = None
    stock_quantity: int | None = None
    backorders: str | None = None
    stock_status: str | None = None


def parse_patch(body: Mapping[str, object], *, variation: bool) -> StockPatch:
    """Validate a product or variation write; unknown fields are ignored, as WordPress does."""
    manage = body.get("manage_stock")
    return StockPatch(
        sku=_opt(body, "sku", as_string),
        name=None if variation else _opt(body, "name", as_string),
        manage_stock=_manage(manage, variation) if "manage_stock" in body else None,
        stock_quantity=_opt(body, "stock_quantity", as_integer),
        backorders=_opt_enum(body, "backorders", BACKORDERS),
        stock_status=_opt_enum(body, "stock_status", STOCK_STATUSES),
    )


def _opt(body: Mapping[str, object], name: str, parse: Callable[[str, object], T]) -> T | None:
    return parse(name, body[name]) if name in body else None


def _opt_enum(body: Mapping[str, object], name: str, options: tuple[str, ...]) -> str | None:
    return as_enum(name, body[name], options) if name in body else None


def _manage(value: object, variation: bool) -> bool:
    # Variations may send "parent": stock is then counted on the parent, not the variation.
    if variation and value == "parent":
        return False
    return as_boolean("manage_stock", value)


def parse_iso_date(name: str, value: str, *, assume_offset_s: int) -> int:
    """Unix seconds of an ISO 8601 date; a date without a zone is in `assume_offset_s`."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_param(name, f"{name} is not a valid date.") from exc
    if parsed.tzinfo is None:
        return int(parsed.replace(tzinfo=UTC).timestamp()) - assume_offset_s
    return int(parsed.timestamp())


def as_page(name: str, value: str | None, *, default: int, maximum: int | None = None) -> int:
    """`page` / `per_page`: integers from 1, `per_page` at most 100 (WordPress's cap)."""
    number = default if value is None else as_integer(name, value)
    if number < 1 or (maximum is not None and number > maximum):
        bounds = f"between 1 (inclusive) and {maximum} (inclusive)" if maximum else "at least 1"
        raise invalid_param(name, f"{name} must be {bounds}")
    return number


def json_object(body: object) -> Mapping[str, object]:
    if not isinstance(body, dict):
        raise WooApiError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return body
