"""The sync state contract on PostgreSQL (a fresh schema per test)."""

import pytest

from tests.contract.sync_state_suite import SyncStateContract


class TestPostgresSyncState(SyncStateContract):
    @pytest.fixture
    def store_url(self, pg_url: str) -> str:
        return pg_url
