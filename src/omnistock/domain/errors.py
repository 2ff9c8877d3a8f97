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
    ├── ChannelError                 a whole call to a channel failed (account, status)
    │   ├── TransientError           back off with jitter and retry (retry_after if known)
    │   │   └── RateLimitedError     the platform said slow down (429, throttled, quota)
    │   └── PermanentError           retrying the same call fails the same way; stays visible
    │       └── AuthFailedError      credentials refused: open the account's circuit
    ├── WebhookRejectedError         forged, unsigned, stale or malformed: answer 4xx
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


class ChannelError(OmnistockError):
    """A whole call to a sales channel failed. Never carries credentials."""

    def __init__(self, message: str, *, account: str, status: int | None = None) -> None:
        super().__init__(f"{account}: {message}" + ("" if status is None else f" (HTTP {status})"))
        self.account = account
        self.status = status


class TransientError(ChannelError):
    """Worth retrying after a backoff; `retry_after` (seconds) when the platform said."""

    def __init__(
        self,
        message: str,
        *,
        account: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, account=account, status=status)
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    """The platform's rate limit or quota was hit."""


class PermanentError(ChannelError):
    """The same call will fail the same way; the work stays dirty and visible."""


class AuthFailedError(PermanentError):
    """The platform refused the account's credentials."""


class WebhookRejectedError(OmnistockError):
    """An incoming webhook or notification was forged, unsigned, stale or malformed."""

    def __init__(self, reason: str, *, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ConfigError(OmnistockError):
    """The configuration is invalid; raised at start-up only."""
