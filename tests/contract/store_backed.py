"""What every store contract shares: a `store` opened on the subclass's `store_url`, and the
two databases a contract runs on (mixed in by the test classes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from omnistock.ledger.store import Store


class StoreBacked:
    @pytest.fixture
    def store_url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    async def store(self, store_url: str) -> AsyncIterator[Store]:
        opened = await Store.open(store_url)
        yield opened
        await opened.close()


class OnSqlite:
    """SQLite, the embedded default: a WAL file per test."""

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ledger.db'}"


class OnPostgres:
    """PostgreSQL, the distributed form: a fresh schema per test."""

    @pytest.fixture
    def store_url(self, pg_url: str) -> str:
        return pg_url
