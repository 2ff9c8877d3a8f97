"""The inbox contract on SQLite (a WAL file)."""

from tests.contract.inbox_suite import InboxContract
from tests.contract.store_backed import OnSqlite


class TestSqliteInbox(OnSqlite, InboxContract):
    pass
