"""Shared fixtures: markers by directory, and a fresh PostgreSQL schema per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.services import postgres_server, unavailable

_MARKERS = {"unit", "contract", "integration", "e2e"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = set(Path(str(item.fspath)).parts)
        for marker in _MARKERS & parts:
            item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str | None]:
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture
def pg_url(pg_server: str | None) -> Iterator[str]:
    """A DSN whose search_path is a fresh schema, dropped after the test."""
    if pg_server is None:
        unavailable("no PostgreSQL server (set OMNISTOCK_TEST_PG_DSN or install pgserver)")
        raise AssertionError("unreachable")
    with fresh_schema(pg_server) as url:
        yield url


@contextmanager
def fresh_schema(pg_server: str) -> Iterator[str]:
    """A DSN whose search_path is a new schema, dropped on exit (for a second database in
    one test)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in pg_server else "?"
    try:
        yield f"{pg_server}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
