"""The store contract on PostgreSQL (a fresh schema per test)."""

from tests.contract.store_backed import OnPostgres
from tests.contract.store_suite import EventStoreContract


class TestPostgresStore(OnPostgres, EventStoreContract):
    pass
