"""The one error tree of omnistock, grouped by what the caller must do.

Lives in the pure core so that every layer can raise and catch the same classes.

    OmnistockError
    ├── DomainError                  deterministic; never retried
    │   ├── InvalidInputError        bad field in a request (names the field and the problem)
    │   ├── UnknownEntityError       a SKU, location, account or listing that does not exist
    │   ├── IdempotencyConflictError a key reused with a different payload
    │   ├── InsufficientStockError   a reservation that cannot be covered under `reject`
    │   └── ConcurrencyConflictError the one to re-read and retry (stale SKU version)
    ├── StorageBusyError             the store stayed contended after retries; retry later
    └── ConfigError                  raised at start-up only
"""

from __future__ import annotations


class OmnistockError(Exception):
    """Root of every error omnistock raises on purpose."""


class DomainError(OmnistockError):
    """A deterministic rule was broken: retrying the same call gives the same error."""


class InvalidInputError(DomainError):
    """A field of the input is malformed, out of range or missing."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class UnknownEntityError(DomainError):
    """The input refers to a catalog entity that does not exist."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"unknown {kind}: {ident!r}")
        self.kind = kind
        self.ident = ident


class IdempotencyConflictError(DomainError):
    """The idempotency key was already used for a different payload."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used with a different payload")
        self.key = key


class InsufficientStockError(DomainError):
    """Available stock does not cover the requested quantity."""

    def __init__(self, sku: str, location: str, requested: int, available: int) -> None:
        super().__init__(
            f"sku {sku!r} at {location!r}: requested {requested}, available {available}"
        )
        self.sku = sku
        self.location = location
        self.requested = requested
        self.available = available


class ConcurrencyConflictError(DomainError):
    """Another writer changed the SKU first: re-read and retry."""

    def __init__(self, sku: str, expected: int, actual: int) -> None:
        super().__init__(f"sku {sku!r} is at version {actual}, expected {expected}")
        self.sku = sku
        self.expected = expected
        self.actual = actual


class StorageBusyError(OmnistockError):
    """Concurrent writers kept winning the race; the call changed nothing and may be retried."""


class ConfigError(OmnistockError):
    """The configuration is invalid; raised at start-up only."""
