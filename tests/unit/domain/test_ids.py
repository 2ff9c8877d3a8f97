"""Identifier and quantity rules, and the error tree."""

from __future__ import annotations

import pytest

from omnistock.domain.errors import (
    ConcurrencyConflictError,
    ConfigError,
    DomainError,
    IdempotencyConflictError,
    InsufficientStockError,
    InvalidInputError,
    OmnistockError,
    UnknownEntityError,
)
from omnistock.domain.ids import (
    MAX_ID_LENGTH,
    MAX_QUANTITY,
    check_delta,
    check_identifier,
    check_quantity,
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "must be a string, got NoneType"),
        (42, "must be a string, got int"),
        (b"abc", "must be a string, got bytes"),
        ("", "must not be empty"),
        ("x" * (MAX_ID_LENGTH + 1), f"must be at most {MAX_ID_LENGTH} characters"),
        (" abc", "must not start or end with white space"),
        ("abc ", "must not start or end with white space"),
        ("a\tb", "must not contain control characters"),
        ("a\x00b", "must not contain control characters"),
        ("a\x1fb", "must not contain control characters"),
        ("a\u200bb", "must not contain control characters"),
    ],
)
def test_check_identifier_rejects(value: object, problem: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_identifier("the_field", value)
    assert info.value.field == "the_field"
    assert info.value.problem == problem
    assert str(info.value) == f"the_field: {problem}"


@pytest.mark.parametrize("value", ["abc\n", "\tabc", "\u00a0abc", "abc\u3000", "\r"])
def test_check_identifier_rejects_blank_padding_of_any_kind(value: str) -> None:
    # Non-ASCII and control blanks are both padding and unprintable: either problem will do.
    with pytest.raises(InvalidInputError) as info:
        check_identifier("the_field", value)
    assert info.value.field == "the_field"
    assert info.value.problem in {
        "must not start or end with white space",
        "must not contain control characters",
    }


@pytest.mark.parametrize("value", ["a", "SKU-1", "a b", "x" * MAX_ID_LENGTH, "ünïcödé"])
def test_check_identifier_accepts(value: str) -> None:
    assert check_identifier("f", value) == value


def test_check_identifier_custom_max_length() -> None:
    assert check_identifier("f", "abcd", 4) == "abcd"
    with pytest.raises(InvalidInputError, match="at most 3 characters") as info:
        check_identifier("f", "abcd", 3)
    assert info.value.field == "f"


@pytest.mark.parametrize(
    ("value", "minimum", "problem"),
    [
        (True, 0, "must be an integer, got bool"),
        (False, 0, "must be an integer, got bool"),
        (1.0, 0, "must be an integer, got float"),
        ("1", 0, "must be an integer, got str"),
        (None, 0, "must be an integer, got NoneType"),
        (0, 1, "must be at least 1, got 0"),
        (-1, 0, "must be at least 0, got -1"),
        (MAX_QUANTITY + 1, 0, f"must be at most {MAX_QUANTITY}, got {MAX_QUANTITY + 1}"),
    ],
)
def test_check_quantity_rejects(value: object, minimum: int, problem: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_quantity("qty", value, minimum=minimum)
    assert info.value.field == "qty"
    assert info.value.problem == problem


@pytest.mark.parametrize(("value", "minimum"), [(0, 0), (1, 1), (MAX_QUANTITY, 0), (7, 7)])
def test_check_quantity_accepts_bounds(value: int, minimum: int) -> None:
    assert check_quantity("qty", value, minimum=minimum) == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (True, "must be an integer, got bool"),
        (-1.5, "must be an integer, got float"),
        ("-1", "must be an integer, got str"),
        (0, "must not be zero"),
        (MAX_QUANTITY + 1, f"must be within ±{MAX_QUANTITY}, got {MAX_QUANTITY + 1}"),
        (-MAX_QUANTITY - 1, f"must be within ±{MAX_QUANTITY}, got {-MAX_QUANTITY - 1}"),
    ],
)
def test_check_delta_rejects(value: object, problem: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_delta("delta", value)
    assert info.value.field == "delta"
    assert info.value.problem == problem


@pytest.mark.parametrize("value", [1, -1, MAX_QUANTITY, -MAX_QUANTITY])
def test_check_delta_accepts(value: int) -> None:
    assert check_delta("delta", value) == value


def test_error_tree() -> None:
    for cls in (
        InvalidInputError,
        UnknownEntityError,
        IdempotencyConflictError,
        InsufficientStockError,
        ConcurrencyConflictError,
    ):
        assert issubclass(cls, DomainError)
    assert issubclass(DomainError, OmnistockError)
    assert issubclass(ConfigError, OmnistockError)
    assert not issubclass(ConfigError, DomainError)


def test_error_attributes_and_messages() -> None:
    unknown = UnknownEntityError("sku", "X-1")
    assert (unknown.kind, unknown.ident, str(unknown)) == ("sku", "X-1", "unknown sku: 'X-1'")

    conflict = IdempotencyConflictError("k1")
    assert conflict.key == "k1"
    assert str(conflict) == "idempotency key 'k1' was already used with a different payload"

    short = InsufficientStockError("S", "L", 5, 2)
    assert (short.sku, short.location, short.requested, short.available) == ("S", "L", 5, 2)
    assert str(short) == "sku 'S' at 'L': requested 5, available 2"

    stale = ConcurrencyConflictError("S", 3, 4)
    assert (stale.sku, stale.expected, stale.actual) == ("S", 3, 4)
    assert str(stale) == "sku 'S' is at version 4, expected 3"
