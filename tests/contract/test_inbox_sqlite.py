"""The inbox contract on SQLite (a WAL file)."""

from pathlib import Path

import pytest

from tests.contract.inbox_suite import InboxContract


class TestSqliteInbox(InboxContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ledger.db'}"
