"""API bearer tokens: generated with 256 bits of randomness, kept only as SHA-256 digests,
each with a scope; `read` < `write` < `admin`."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from omnistock.adapters.secrets import Secret

_PREFIX = "osk_"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


def allows(granted: Scope, needed: Scope) -> bool:
    """Whether a token with scope `granted` may call a route that needs `needed`."""
    return _RANK[granted] >= _RANK[needed]


def new_token() -> tuple[Secret, str]:
    """A new token (shown once to its owner) and the digest that is stored."""
    token = _PREFIX + secrets.token_urlsafe(32)
    return Secret(token), digest(token)


def digest(token: str) -> str:
    # A plain hash suffices: tokens carry 256 random bits, nothing to guess or stretch.
    return hashlib.sha256(token.encode()).hexdigest()
