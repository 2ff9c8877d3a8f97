"""Schema migrations: numbered SQL scripts per database, each applied once, by
`omnistock db migrate` or at `omnistock run` start; every other command refuses a database
whose schema is missing or behind (`require_current`).

Plain SQL files rather than Alembic: the stores use their drivers directly, without an ORM,
and two dialects of a few tables are clearer as SQL than as generated operations. Each
applied migration's SHA-256 is recorded, so that `db status` shows a shipped script that
no longer matches what was applied."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from omnistock.domain.errors import ConfigError
from omnistock.ledger.database import Database

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Concurrent starters of the distributed form must not both apply a migration.
_PG_LOCK_ID = 0x6F6D6E69


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Applied:
    version: int
    name: str
    checksum: str | None  # None: applied before checksums were recorded
    shipped: str | None  # the checksum of the script shipped now (None: not shipped)

    @property
    def matches(self) -> bool:
        return self.checksum is None or self.checksum == self.shipped


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    applied: tuple[Applied, ...]
    pending: tuple[Migration, ...]
    has_schema: bool  # the database has omnistock's migration table at all


class SchemaNotReadyError(ConfigError):
    """The database has no omnistock schema, or migrations are pending."""


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
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT)"
        )
        if "checksum" not in _columns(db):  # created before checksums were recorded
            db.script("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")
        done = {row[0] for row in db.rows("SELECT version FROM schema_migrations")}
        applied = []
        for migration in available(db.name):
            if migration.version not in done:
                db.script(migration.sql)
                db.run(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                    (migration.version, migration.name, migration.checksum),
                )
                applied.append(migration.name)
    return applied


def status(db: Database) -> MigrationStatus:
    """What is applied (with checksums, recorded and shipped) and what is pending; reads
    only."""
    shipped = available(db.name)
    if not _has_table(db):
        return MigrationStatus(applied=(), pending=tuple(shipped), has_schema=False)
    by_version = {m.version: m for m in shipped}
    checksum = "checksum" if "checksum" in _columns(db) else "NULL"
    rows = db.rows(f"SELECT version, name, {checksum} FROM schema_migrations ORDER BY version")
    applied = tuple(
        Applied(
            version,
            name,
            recorded,
            by_version[version].checksum if version in by_version else None,
        )
        for version, name, recorded in rows
    )
    done = {a.version for a in applied}
    pending = tuple(m for m in shipped if m.version not in done)
    return MigrationStatus(applied=applied, pending=pending, has_schema=True)


def require_current(db: Database, where: str) -> None:
    """SchemaNotReadyError unless every shipped migration has been applied to `db` (named
    `where` in the message)."""
    found = status(db)
    if not found.has_schema:
        raise SchemaNotReadyError(
            f"{where} has no omnistock schema; create it with `omnistock db migrate`"
        )
    if found.pending:
        names = ", ".join(m.name for m in found.pending)
        raise SchemaNotReadyError(
            f"{where} has {len(found.pending)} pending migration(s) ({names}); "
            "apply them with `omnistock db migrate`"
        )


def _has_table(db: Database) -> bool:
    if db.name == "postgres":
        sql = "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        sql += " AND table_schema = current_schema()"
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    return bool(db.rows(sql))


def _columns(db: Database) -> set[str]:
    if db.name == "postgres":
        rows = db.rows(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'schema_migrations' AND table_schema = current_schema()"
        )
        return {name for (name,) in rows}
    return {row[1] for row in db.rows("PRAGMA table_info(schema_migrations)")}
