"""The store contract on PostgreSQL (a fresh schema per test)."""

import pytest

from tests.contract.store_suite import EventStoreContract


class TestPostgresStore(EventStoreContract):
    @pytest.fixture
    def store_url(self, pg_url: str) -> str:
        return pg_url
