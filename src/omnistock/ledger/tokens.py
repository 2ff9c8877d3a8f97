"""Stored API tokens: digest, name, scope; looked up by the digest of a presented token.

The token itself is never stored; revoking keeps the row so a name is not reused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import check_identifier
from omnistock.ledger.database import Database


@dataclass(frozen=True, slots=True)
class StoredToken:
    name: str
    scope: str
    created_at: datetime
    revoked: bool


class TokenRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, scope: str, digest: str, now: datetime) -> None:
        """Record a token; InvalidInputError if the name is taken."""
        check_identifier("name", name)
        with self._db.transaction():
            if self._db.rows("SELECT 1 FROM api_tokens WHERE name = ?", (name,)):
                raise InvalidInputError("name", f"a token named {name!r} exists")
            self._db.run(
                "INSERT INTO api_tokens (digest, name, scope, created_at) VALUES (?, ?, ?, ?)",
                (digest, name, scope, now.isoformat()),
            )

    def find(self, digest: str) -> StoredToken | None:
        """The live token with this digest, if any."""
        rows = self._db.rows(
            "SELECT name, scope, created_at, revoked FROM api_tokens WHERE digest = ?", (digest,)
        )
        if not rows or rows[0][3]:
            return None
        name, scope, created, _ = rows[0]
        return StoredToken(name, scope, datetime.fromisoformat(created), False)

    def revoke(self, name: str) -> bool:
        with self._db.transaction():
            changed = self._db.run(
                "UPDATE api_tokens SET revoked = 1 WHERE name = ? AND revoked = 0", (name,)
            )
        return changed == 1

    def all(self) -> list[StoredToken]:
        rows = self._db.rows(
            "SELECT name, scope, created_at, revoked FROM api_tokens ORDER BY name"
        )
        return [StoredToken(n, s, datetime.fromisoformat(c), bool(r)) for n, s, c, r in rows]
