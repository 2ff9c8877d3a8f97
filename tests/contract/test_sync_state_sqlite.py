"""The sync state contract on SQLite (a WAL file)."""

from pathlib import Path

import pytest

from tests.contract.sync_state_suite import SyncStateContract


class TestSqliteSyncState(SyncStateContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ledger.db'}"
