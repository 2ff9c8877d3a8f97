"""PostgreSQL, the distributed form: many processes share one database.

Writers are optimistic (conditional version updates); conflicts surface as RetryableError."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict

from omnistock.ledger.database import BulkStatement, DatabaseUnavailableError, RetryableError, Row

_RETRYABLE = (
    errors.UniqueViolation,
    errors.DeadlockDetected,
    errors.SerializationFailure,
    errors.LockNotAvailable,
)


@lru_cache(maxsize=512)
def _adapt(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresDatabase:
    name = "postgres"

    def __init__(self, dsn: str) -> None:
        try:
            self._conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
        except psycopg.Error as exc:
            where = conninfo_to_dict(dsn).get("host") or "the local socket"
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            reason = lines[0] if lines else type(exc).__name__
            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL at {where}: {reason}"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self._conn.transaction():
                yield
        except _RETRYABLE as exc:
            raise RetryableError(type(exc).__name__) from exc

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return self._conn.execute(_adapt(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        return self._conn.execute(_adapt(sql), params).rowcount

    def run_many(self, sql: str, params: Iterable[Sequence[object]]) -> int:
        with self._conn.cursor() as cursor:
            cursor.executemany(_adapt(sql), params)
            return cursor.rowcount

    def run_bulk(self, statement: BulkStatement, rows: Sequence[Sequence[object]]) -> int:
        if not rows:
            return 0
        table = self._staging_table(statement)
        names = ", ".join(name for name, _ in statement.columns)
        with self._conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(statement.set_based.format(rows=table))
            return cursor.rowcount

    def _staging_table(self, statement: BulkStatement) -> str:
        # Per session, emptied at every commit; created inside the transaction each time so
        # that a rolled-back creation can never leave us believing it exists.
        table = f"staging_{statement.name}"
        columns = ", ".join(f"{name} {kind}" for name, kind in statement.columns)
        self._conn.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({columns}) ON COMMIT DELETE ROWS"
        )
        return table

    def script(self, sql: str) -> None:
        self._conn.execute(sql.encode(), prepare=False)  # several statements: never prepared

    def any_of(self, column: str) -> str:
        return f"{column} = ANY(?)"

    def list_param(self, values: Iterable[str]) -> object:
        return sorted(set(values))

    def encode_time(self, value: datetime) -> object:
        return value

    def decode_time(self, value: object) -> datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a timestamp, got {type(value).__name__}")
        return value

    def close(self) -> None:
        self._conn.close()
