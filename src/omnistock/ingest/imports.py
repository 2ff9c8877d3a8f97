"""ERP/WMS stock files (CSV or JSONL) read row by row into ledger events (pure).

A row becomes an absolute count or a signed delta whose idempotency key is the file's digest
and the row's line, or a RowError naming the line and the problem; nothing here raises for a row."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeAlias, TypedDict

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import StockAdjusted, StockCounted
from omnistock.domain.ids import LocationId, Sku, check_identifier

REQUIRED_COLUMNS = ("sku", "location", "quantity")
COLUMNS = (*REQUIRED_COLUMNS, "mode", "reason", "occurred_at")
DEFAULT_REASON = "import"
# Digits beyond any quantity (|q| < 2**31) are refused before int() sees them; int() alone
# would also take "5_000", " 5" and non-ASCII digits.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 12
_UTF8_SLICE = 1 << 16  # bytes checked at a time, so that checking never copies the file
_SHOWN = 40  # characters of a bad value quoted back in an error


class _CsvReader(Protocol):
    """What is used of csv.reader's object (its class is private)."""

    @property
    def line_num(self) -> int: ...

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


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
class RowError:
    """A row that could not become an event: the file's own line number, and why."""

    line: int
    reason: str


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
    _check_utf8(data)
    file_id = file_digest(data)
    make = _RowMaker(file_id, options)
    lines = _lines(data)
    rows = _csv_rows(lines, make) if fmt is ImportFormat.CSV else _jsonl_rows(lines, make)
    return StockFile(file_id, count_lines(data), rows)


def file_digest(data: bytes) -> str:
    """The file's id in row keys: two different files get different keys."""
    return hashlib.sha256(data).hexdigest()[:16]


def row_key(file_id: str, line: int) -> str:
    """The idempotency key of a row: re-importing the same file changes nothing."""
    return f"import:{file_id}:{line}"


def count_lines(data: bytes) -> int:
    """Lines in the file, counted as `_lines` splits them closely enough for progress."""
    breaks = data.count(b"\n") or data.count(b"\r")  # old Mac files end lines with CR alone
    return breaks + (0 if data.endswith((b"\n", b"\r")) else 1) if data else 0


def _check_utf8(data: bytes) -> None:
    if data.isascii():  # the common case, checked without decoding
        return
    view = memoryview(data)
    done = 0
    while done < len(view):
        end = done + _UTF8_SLICE
        try:
            _, used = codecs.utf_8_decode(view[done:end], "strict", end >= len(view))
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, done + exc.start) + 1
            raise InvalidInputError("file", f"is not UTF-8 text (line {line})") from None
        done += used  # a character cut by the slice's end is decoded with the next slice


def _lines(data: bytes) -> Iterator[str]:
    # BytesIO shares the bytes (no copy); the wrapper decodes a few KB at a time. newline=""
    # keeps each line's own ending (csv needs it for quoted line breaks) and still splits
    # on LF, CRLF and CR, so line numbers are the ones an editor shows. utf-8-sig drops a BOM.
    return iter(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))


def _csv_rows(lines: Iterator[str], make: _RowMaker) -> Iterator[ParsedRow]:
    reader = csv.reader(lines, strict=True)
    names = _header(reader)
    return _csv_records(reader, names, make)


def _header(reader: _CsvReader) -> list[str]:
    try:
        for record in reader:
            if not _blank(record):
                names = [name.strip().lower() for name in record]
                _check_header(names, reader.line_num)
                return names
    except csv.Error as exc:
        raise InvalidInputError("header", f"malformed CSV: {exc}") from None
    raise InvalidInputError("header", "the file is empty; its first line names the columns")


def _check_header(names: list[str], line: int) -> None:
    where = f"(line {line}; columns are {', '.join(COLUMNS)})"
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise InvalidInputError("header", f"unknown column {_shown(unknown[0])} {where}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInputError("header", f"column {repeated[0]!r} appears twice {where}")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise InvalidInputError("header", f"column {missing[0]!r} is missing {where}")


def _csv_records(reader: _CsvReader, names: list[str], make: _RowMaker) -> Iterator[ParsedRow]:
    last = reader.line_num  # a record starts on the line after the previous one ended
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader resumes on the next line
            yield RowError(last + 1, f"malformed CSV: {exc}")
            last = reader.line_num
            continue
        line, last = last + 1, reader.line_num
        if _blank(record):
            continue
        if len(record) != len(names):
            yield RowError(line, f"expected {len(names)} columns, got {len(record)}")
            continue
        yield make.row(line, dict(zip(names, record, strict=True)))


def _blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _jsonl_rows(lines: Iterator[str], make: _RowMaker) -> Iterator[ParsedRow]:
    for line, text in enumerate(lines, start=1):
        if text.strip():
            yield _json_row(line, text, make)


def _json_row(line: int, text: str, make: _RowMaker) -> ParsedRow:
    try:
        value = json.loads(text.rstrip("\r\n"), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return RowError(line, f"malformed JSON: {exc.msg} (column {exc.colno})")
    except ValueError as exc:  # NaN or Infinity, or an integer of thousands of digits
        return RowError(line, f"malformed JSON: {exc}")
    if not isinstance(value, dict):
        return RowError(line, "must be a JSON object")
    unknown = [name for name in value if name not in COLUMNS]
    if unknown:
        fields = ", ".join(COLUMNS)
        return RowError(line, f"unknown field {_shown(unknown[0])} (fields are {fields})")
    return make.row(line, value)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


class _RowMaker:
    """Turns one row's fields (text from CSV, JSON values from JSONL) into its event."""

    def __init__(self, file_id: str, options: ImportOptions) -> None:
        self._file_id = file_id
        self._options = options

    def row(self, line: int, fields: Mapping[str, object]) -> ParsedRow:
        try:
            return ImportRow(line, self._event(line, fields))
        except InvalidInputError as exc:
            return RowError(line, str(exc))

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
    raise InvalidInputError("mode", f"must be 'absolute' or 'delta', got {_shown(value)}")


def _quantity(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # its range depends on the mode: the event's validate() checks it
    if not isinstance(value, str) or not value:
        return _int_required(value)
    if not _INTEGER.fullmatch(value):
        raise InvalidInputError("quantity", f"must be an integer, got {_shown(value)}")
    if len(value.lstrip("+-")) > _MAX_DIGITS:
        raise InvalidInputError("quantity", f"is out of range: {_shown(value)}")
    return int(value)


def _int_required(value: object) -> int:
    if value is None or value == "":
        raise InvalidInputError("quantity", "is required")
    raise InvalidInputError("quantity", f"must be an integer, got {_shown(value)}")


def _moment(value: object, default: datetime) -> datetime:
    if not _given(value):
        return default
    if not isinstance(value, str):
        raise InvalidInputError("occurred_at", f"must be a string, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            "occurred_at", f"must be an ISO-8601 date and time, got {_shown(value)}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInputError("occurred_at", f"must include a UTC offset, got {_shown(value)}")
    return moment


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
