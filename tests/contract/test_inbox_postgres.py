"""The inbox contract on PostgreSQL (a fresh schema per test)."""

from tests.contract.inbox_suite import InboxContract
from tests.contract.store_backed import OnPostgres


class TestPostgresInbox(OnPostgres, InboxContract):
    pass
