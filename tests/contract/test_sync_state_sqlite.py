"""The sync state contract on SQLite (a WAL file)."""

from tests.contract.store_backed import OnSqlite
from tests.contract.sync_state_suite import SyncStateContract


class TestSqliteSyncState(OnSqlite, SyncStateContract):
    pass
