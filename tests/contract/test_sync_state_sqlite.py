"""The sync state contract on SQLite (a WAL file), and the plans its hot statements get."""

from pathlib import Path

from omnistock.ledger.migrations import migrate
from omnistock.ledger.sqlite import SqliteDatabase
from omnistock.ledger.sync_state import _SOLD_ON_CHANNEL
from tests.contract.store_backed import OnSqlite
from tests.contract.sync_state_suite import SyncStateContract


class TestSqliteSyncState(OnSqlite, SyncStateContract):
    pass


def test_a_sale_finds_its_listing_by_account_and_sku(tmp_path: Path) -> None:
    # With the account's index alone, SQLite read every listing of the account per sale
    # (24 ms a call of 5 sales at 10,500 listings an account; 0.47 ms by both columns).
    db = SqliteDatabase(str(tmp_path / "plan.db"))
    try:
        migrate(db)
        plan = db.rows(f"EXPLAIN QUERY PLAN {_SOLD_ON_CHANNEL.per_row}", ("acct", "SKU", 1))
    finally:
        db.close()
    lookups = [str(row[3]) for row in plan if " l " in f" {row[3]} " or " o " in f" {row[3]} "]
    assert len(lookups) == 2, plan
    assert all("listings_by_account_sku (account=? AND sku=?)" in step for step in lookups), plan
