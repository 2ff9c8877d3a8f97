"""Schema migrations: numbered SQL scripts per database, applied on start, each once.

Plain SQL files rather than Alembic: the stores use their drivers directly, without an ORM,
and two dialects of a few tables are clearer as SQL than as generated operations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from omnistock.ledger.database import Database

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Concurrent starters of the distributed form must not both apply a migration.
_PG_LOCK_ID = 0x6F6D6E69


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available(dialect: str) -> list[Migration]:
    """The migrations shipped for `dialect`, in order."""
    folder = resources.files("omnistock.ledger").joinpath("schema", dialect)
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def migrate(db: Database) -> list[str]:
    """Apply every migration not yet applied; return the names applied now."""
    with db.transaction():
        if db.name == "postgres":
            db.run("SELECT pg_advisory_xact_lock(?)", (_PG_LOCK_ID,))
        db.script(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        done = {row[0] for row in db.rows("SELECT version FROM schema_migrations")}
        applied = []
        for migration in available(db.name):
            if migration.version not in done:
                db.script(migration.sql)
                db.run(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    (migration.version, migration.name),
                )
                applied.append(migration.name)
    return applied
