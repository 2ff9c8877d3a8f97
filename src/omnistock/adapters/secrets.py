"""Credentials that cannot leak by accident: Secret hides its value from repr, str, format
and pickle, and `redact` scrubs known secret values out of text built from responses."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import NoReturn
from urllib.parse import quote, quote_plus

MASK = "***"


class Secret:
    """A credential (API key, token, consumer secret); only `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value, for the one place that must send it (an auth header, a signature)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        # Ignore the spec: `f"{s:>40}"` must neither leak nor raise.
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant time, so comparing a presented credential does not leak its prefix.
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> NoReturn:
        # Pickling would carry the value into queues, caches or logs; reveal() on purpose.
        raise TypeError("a Secret cannot be pickled; pass secret.reveal() explicitly")

    def __copy__(self) -> Secret:
        return self  # immutable; keeps copy() working despite __reduce__

    def __deepcopy__(self, memo: object) -> Secret:
        return self


def redact(text: str, secrets: Iterable[Secret]) -> str:
    """`text` with every occurrence of each secret's value, raw or URL-encoded, as `***`."""
    forms = {form for secret in secrets for form in _spellings(secret.reveal()) if form}
    # Longest first, so a secret that contains another is masked whole.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def _spellings(value: str) -> tuple[str, ...]:
    """How a value may appear in a URL or form body as well as verbatim."""
    return (value, quote(value, safe=""), quote_plus(value, safe=""))
