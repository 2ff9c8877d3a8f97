"""ERP/WMS stock files (CSV or JSONL) read row by row into ledger events (pure).

A row becomes an absolute count or a signed delta whose idempotency key is the file's digest
and the row's line, or a RowError naming the line and the problem; nothing here raises for a row."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePath
from typing import TypeAlias, TypedDict

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import StockAdjusted, StockCounted
from omnistock.domain.ids import LocationId, Sku, check_identifier
from omnistock.ingest.textfile import (
    CsvFile,
    Record,
    check_columns,
    check_utf8,
    integer,
    jsonl_records,
    shown,
    text_lines,
    unknown_field,
)

# Re-exported: the stock import's callers name them here.
from omnistock.ingest.textfile import RowError as RowError
from omnistock.ingest.textfile import count_lines as count_lines

REQUIRED_COLUMNS = ("sku", "location", "quantity")
COLUMNS = (*REQUIRED_COLUMNS, "mode", "reason", "occurred_at")
DEFAULT_REASON = "import"


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


_SUFFIXES = {".csv": ImportFormat.CSV, ".jsonl": ImportFormat.JSONL, ".ndjson": ImportFormat.JSONL}


def format_of(filename: str) -> ImportFormat | None:
    """The format a file's name says (.csv, .jsonl or .ndjson, in any case), if it does."""
    return _SUFFIXES.get(PurePath(filename).suffix.lower())


class ImportMode(StrEnum):
    ABSOLUTE = "absolute"  # the row is a count: on hand becomes `quantity`
    DELTA = "delta"  # the row is an adjustment: on hand moves by `quantity`


_MODES = frozenset(mode.value for mode in ImportMode)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportOptions:
    """How rows that leave something out are read, and the `source` their events carry."""

    default_mode: ImportMode
    occurred_at: datetime  # for rows without an `occurred_at` of their own
    source: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    event: StockCounted | StockAdjusted


ParsedRow: TypeAlias = ImportRow | RowError


@dataclass(frozen=True, slots=True)
class StockFile:
    """A file that passed the file-level checks: its id (digest), its number of lines and
    its rows, read lazily and only once, in file order."""

    file_id: str
    lines: int
    rows: Iterator[ParsedRow]


def read_stock_file(data: bytes, fmt: ImportFormat, options: ImportOptions) -> StockFile:
    """Check `data` as a whole and return its rows.

    Raises InvalidInputError before any row is read when the file cannot be imported at all:
    field "file" when it is not UTF-8 text, "header" when a CSV header is missing or names
    unknown, repeated or too few columns, "source" when `options.source` is malformed."""
    check_identifier("source", options.source)
    check_utf8(data)
    file_id = file_digest(data)
    make = _RowMaker(file_id, options)
    lines = text_lines(data)
    rows = _csv_rows(lines, make) if fmt is ImportFormat.CSV else _jsonl_rows(lines, make)
    return StockFile(file_id, count_lines(data), rows)


def file_digest(data: bytes) -> str:
    """The file's id in row keys: two different files get different keys."""
    return hashlib.sha256(data).hexdigest()[:16]


def row_key(file_id: str, line: int) -> str:
    """The idempotency key of a row: re-importing the same file changes nothing."""
    return f"import:{file_id}:{line}"


def _csv_rows(lines: Iterator[str], make: _RowMaker) -> Iterator[ParsedRow]:
    csv_file = CsvFile(lines)
    check_columns(csv_file, COLUMNS, REQUIRED_COLUMNS)
    return (make.row(r) if isinstance(r, Record) else r for r in csv_file.records())


def _jsonl_rows(lines: Iterator[str], make: _RowMaker) -> Iterator[ParsedRow]:
    for record in jsonl_records(lines):
        if isinstance(record, RowError):
            yield record
        else:
            yield unknown_field(record, COLUMNS) or make.row(record)


class _RowMaker:
    """Turns one row's fields (text from CSV, JSON values from JSONL) into its event."""

    def __init__(self, file_id: str, options: ImportOptions) -> None:
        self._file_id = file_id
        self._options = options

    def row(self, record: Record) -> ParsedRow:
        try:
            return ImportRow(record.line, self._event(record.line, record.fields))
        except InvalidInputError as exc:
            return RowError(record.line, str(exc))

    def _event(self, line: int, fields: Mapping[str, object]) -> StockCounted | StockAdjusted:
        mode = _mode(fields.get("mode"), self._options.default_mode)
        reason = fields.get("reason")
        common = _Common(
            idempotency_key=row_key(self._file_id, line),
            sku=Sku(_string("sku", fields.get("sku"))),
            location=LocationId(_string("location", fields.get("location"))),
            quantity=_quantity(fields.get("quantity")),
            source=self._options.source,
            occurred_at=_moment(fields.get("occurred_at"), self._options.occurred_at),
        )
        event: StockCounted | StockAdjusted
        if mode is ImportMode.DELTA:
            text = _string("reason", reason) if _given(reason) else DEFAULT_REASON
            event = StockAdjusted(**common, reason=text)
        elif _given(reason):  # a count has nowhere to keep it: refuse rather than drop it
            raise InvalidInputError("reason", "only delta rows take a reason")
        else:
            event = StockCounted(**common)
        event.validate()  # identifiers, ranges (a count >= 0, a delta non-zero) and the reason
        return event


class _Common(TypedDict):
    idempotency_key: str
    sku: Sku
    location: LocationId
    quantity: int
    source: str
    occurred_at: datetime


def _given(value: object) -> bool:
    """An optional field counts as absent when missing, null or empty."""
    return value is not None and value != ""


def _string(field: str, value: object) -> str:
    if value is None or value == "":
        raise InvalidInputError(field, "is required")
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    return value


def _mode(value: object, default: ImportMode) -> ImportMode:
    if not _given(value):
        return default
    if isinstance(value, str) and value.strip().lower() in _MODES:
        return ImportMode(value.strip().lower())
    raise InvalidInputError("mode", f"must be 'absolute' or 'delta', got {shown(value)}")


def _quantity(value: object) -> int:
    # Its range depends on the mode: the event's validate() checks it.
    return integer("quantity", value)


def _moment(value: object, default: datetime) -> datetime:
    if not _given(value):
        return default
    if not isinstance(value, str):
        raise InvalidInputError("occurred_at", f"must be a string, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            "occurred_at", f"must be an ISO-8601 date and time, got {shown(value)}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInputError("occurred_at", f"must include a UTC offset, got {shown(value)}")
    return moment
