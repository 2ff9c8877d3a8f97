"""The inbox contract on PostgreSQL (a fresh schema per test)."""

import pytest

from tests.contract.inbox_suite import InboxContract


class TestPostgresInbox(InboxContract):
    @pytest.fixture
    def store_url(self, pg_url: str) -> str:
        return pg_url
