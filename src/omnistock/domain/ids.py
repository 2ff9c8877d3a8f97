"""Identifiers of the data model and the rules that make one well formed.

An identifier is a non-empty string without control characters or surrounding blanks."""

from __future__ import annotations

from typing import NewType

from omnistock.domain.errors import InvalidInputError

Sku = NewType("Sku", str)
LocationId = NewType("LocationId", str)
AccountId = NewType("AccountId", str)
ListingId = NewType("ListingId", str)

MAX_ID_LENGTH = 128
MAX_KEY_LENGTH = 256
MAX_QUANTITY = 2**31 - 1


def check_identifier(field: str, value: object, max_length: int = MAX_ID_LENGTH) -> str:
    """Return `value` if it is a well-formed identifier, else raise InvalidInputError."""
    # One combined test first: this runs several times for every event appended.
    if (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and value.isprintable()
        and not value[0].isspace()
        and not value[-1].isspace()
    ):
        return value
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidInputError(field, "must not be empty")
    if len(value) > max_length:
        raise InvalidInputError(field, f"must be at most {max_length} characters")
    if not value.isprintable():
        raise InvalidInputError(field, "must not contain control characters")
    raise InvalidInputError(field, "must not start or end with white space")


def check_quantity(field: str, value: object, *, minimum: int) -> int:
    """Return `value` if it is an integer in [minimum, 2**31 - 1], else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, f"must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise InvalidInputError(field, f"must be at least {minimum}, got {value}")
    if value > MAX_QUANTITY:
        raise InvalidInputError(field, f"must be at most {MAX_QUANTITY}, got {value}")
    return value


def check_delta(field: str, value: object) -> int:
    """Return `value` if it is a non-zero integer within ±(2**31 - 1), else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, f"must be an integer, got {type(value).__name__}")
    if value == 0:
        raise InvalidInputError(field, "must not be zero")
    if abs(value) > MAX_QUANTITY:
        raise InvalidInputError(field, f"must be within ±{MAX_QUANTITY}, got {value}")
    return value
