"""Schema migrations on SQLite and PostgreSQL: a database without the schema is refused
unless migrating, each applied migration's checksum is recorded, and a migration table of
an older version (no checksum column) is brought up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnistock.ledger.migrations import SchemaNotReadyError, available
from omnistock.ledger.store import Store, connect


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        (tmp_path / "ledger.db").touch()  # exists, but empty: no schema
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    found: str = request.getfixturevalue("pg_url")
    return found


async def test_a_database_without_the_schema_is_refused_until_migrated(url: str) -> None:
    with pytest.raises(SchemaNotReadyError, match="has no omnistock schema"):
        await Store.open(url, schema="require")
    store = await Store.open(url, schema="inspect")
    try:
        found = await store.migration_status()
        assert (found.has_schema, found.applied) == (False, ())
        assert [m.name for m in found.pending] == [m.name for m in available(store.dialect)]
        applied = await store.migrate()
        assert applied == [m.name for m in available(store.dialect)]
        found = await store.migration_status()
        assert found.pending == ()
        assert all(a.checksum == a.shipped and a.matches for a in found.applied)
        assert await store.migrate() == []
    finally:
        await store.close()
    opened = await Store.open(url, schema="require")  # current now: no error
    await opened.close()


async def test_a_migration_table_without_checksums_gets_them_from_now_on(url: str) -> None:
    store = await Store.open(url, schema="migrate")
    await store.close()
    db = connect(url)
    try:
        with db.transaction():
            db.script("ALTER TABLE schema_migrations DROP COLUMN checksum")
            db.run("DELETE FROM schema_migrations WHERE version = 12")
            db.script("ALTER TABLE listing_sync DROP COLUMN held")
    finally:
        db.close()
    with pytest.raises(SchemaNotReadyError, match="1 pending migration"):
        await Store.open(url, schema="require")
    store = await Store.open(url, schema="inspect")
    try:
        before = await store.migration_status()
        assert all(a.checksum is None and a.matches for a in before.applied)
        assert await store.migrate() == ["0012_stock_unknown.sql"]
        after = await store.migration_status()
        recorded = {a.name: a.checksum for a in after.applied}
        assert recorded["0012_stock_unknown.sql"] is not None
        assert recorded["0001_initial.sql"] is None  # applied before checksums were kept
    finally:
        await store.close()
