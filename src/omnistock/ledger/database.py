"""The seam between the ledger's transaction scripts and a SQL database.

SQL is written once with `?` placeholders; each implementation adapts it to its driver."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from omnistock.domain.errors import ConfigError

Row = tuple[Any, ...]


class DatabaseUnavailableError(ConfigError):
    """The database the settings name cannot be opened or reached (said, not a traceback)."""


class Database(Protocol):
    """One connection to SQLite or PostgreSQL, used from one thread at a time."""

    name: str

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction: committed on exit, rolled back on error.

        Raises RetryableError when the database reports a conflict worth retrying."""
        ...

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run a query and return every row."""
        ...

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    def run_many(self, sql: str, params: Iterable[Sequence[object]]) -> int:
        """Run one statement per parameter row; return the total number of rows changed."""
        ...

    def run_bulk(self, statement: BulkStatement, rows: Sequence[Sequence[object]]) -> int:
        """Apply `statement` to every row (values in `statement.columns` order); return the
        number of rows changed."""
        ...

    def script(self, sql: str) -> None:
        """Run several `;`-separated statements (DDL) inside the current transaction."""
        ...

    def any_of(self, column: str) -> str:
        """A condition true when `column` is one of a list passed as a single parameter."""
        ...

    def list_param(self, values: Iterable[str]) -> object:
        """The parameter that `any_of` expects for `values`."""
        ...

    def encode_time(self, value: datetime) -> object: ...

    def decode_time(self, value: object) -> datetime: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkStatement:
    """One write applied to many rows, in the form each database runs fastest.

    SQLite reuses one prepared statement per row (`per_row`, `?N` = the Nth column);
    PostgreSQL plans every statement, so its rows are copied into a staging table and
    applied by one set-based statement (`set_based`, `{rows}` = that table)."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (name, PostgreSQL type), the order of row values
    per_row: str
    set_based: str


class RetryableError(Exception):
    """A transaction lost a race (stale version, lock, unique key taken): run it again."""


def split_statements(sql: str) -> Iterator[str]:
    """The `;`-separated pieces of a migration script, without comment lines."""
    code = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    for statement in code.split(";"):
        if statement.strip():
            yield statement.strip()
