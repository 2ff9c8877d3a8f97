"""The sync state contract on PostgreSQL (a fresh schema per test)."""

from tests.contract.store_backed import OnPostgres
from tests.contract.sync_state_suite import SyncStateContract


class TestPostgresSyncState(OnPostgres, SyncStateContract):
    pass
