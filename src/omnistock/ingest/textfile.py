"""CSV and JSONL files read as line-numbered records (pure), for the stock and catalog imports.

Line numbers are the ones an editor shows; a record that cannot be read is a RowError on its
own line, and only a file that cannot be read at all raises (InvalidInputError)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from omnistock.domain.errors import InvalidInputError

# Digits beyond any quantity (|q| < 2**31) are refused before int() sees them; int() alone
# would also take "5_000", " 5" and non-ASCII digits.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 12
_UTF8_SLICE = 1 << 16  # bytes checked at a time, so that checking never copies the file
_SHOWN = 40  # characters of a bad value quoted back in an error


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be used: the file's own line number, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Record:
    """One row as read: CSV text by column name, or a JSONL line's object."""

    line: int
    fields: Mapping[str, object]


class _CsvReader(Protocol):
    """What is used of csv.reader's object (its class is private)."""

    @property
    def line_num(self) -> int: ...

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


def check_utf8(data: bytes) -> None:
    """Raise InvalidInputError (field "file", naming the line) unless `data` is UTF-8."""
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


def count_lines(data: bytes) -> int:
    """Lines in the file, counted as `text_lines` splits them closely enough for progress."""
    breaks = data.count(b"\n") or data.count(b"\r")  # old Mac files end lines with CR alone
    return breaks + (0 if data.endswith((b"\n", b"\r")) else 1) if data else 0


def text_lines(data: bytes) -> Iterator[str]:
    """The file's lines, each with its own ending; call check_utf8 first."""
    # BytesIO shares the bytes (no copy); the wrapper decodes a few KB at a time. newline=""
    # keeps each line's own ending (csv needs it for quoted line breaks) and still splits
    # on LF, CRLF and CR, so line numbers are the ones an editor shows. utf-8-sig drops a BOM.
    return iter(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))


class CsvFile:
    """A CSV file's header, read at once (blank lines before it skipped), then its records,
    read lazily and only once."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._reader: _CsvReader = csv.reader(lines, strict=True)
        self.names = self._header()
        self.header_line = self._reader.line_num

    def _header(self) -> list[str]:
        try:
            for record in self._reader:
                if not _blank(record):
                    return [name.strip().lower() for name in record]
        except csv.Error as exc:
            raise InvalidInputError("header", f"malformed CSV: {exc}") from None
        raise InvalidInputError("header", "the file is empty; its first line names the columns")

    def records(self) -> Iterator[Record | RowError]:
        """Each non-blank record with its first line, by column name."""
        reader, names = self._reader, self.names
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
            yield Record(line, dict(zip(names, record, strict=True)))


def check_columns(csv_file: CsvFile, columns: Sequence[str], required: Sequence[str]) -> None:
    """Raise InvalidInputError("header", …) for an unknown, repeated or missing column."""
    names = csv_file.names
    where = f"(line {csv_file.header_line}; columns are {', '.join(columns)})"
    unknown = [name for name in names if name not in columns]
    if unknown:
        raise InvalidInputError("header", f"unknown column {shown(unknown[0])} {where}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInputError("header", f"column {repeated[0]!r} appears twice {where}")
    missing = [name for name in required if name not in names]
    if missing:
        raise InvalidInputError("header", f"column {missing[0]!r} is missing {where}")


def _blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def jsonl_records(
    lines: Iterator[str], max_chars: int | None = None
) -> Iterator[Record | RowError]:
    """Each non-blank line's JSON object; NaN, Infinity, non-objects and lines longer than
    `max_chars` are row errors."""
    for line, text in enumerate(lines, start=1):
        if max_chars is not None and len(text) > max_chars:
            yield RowError(line, f"is longer than {max_chars} characters")
        elif text.strip():
            yield _json_record(line, text)


def _json_record(line: int, text: str) -> Record | RowError:
    try:
        value = json.loads(text.rstrip("\r\n"), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return RowError(line, f"malformed JSON: {exc.msg} (column {exc.colno})")
    except ValueError as exc:  # NaN or Infinity, or an integer of thousands of digits
        return RowError(line, f"malformed JSON: {exc}")
    if not isinstance(value, dict):
        return RowError(line, "must be a JSON object")
    return Record(line, value)


def unknown_field(record: Record, fields: Sequence[str]) -> RowError | None:
    """The row error for a JSON object naming a field outside `fields`, if it does."""
    unknown = [name for name in record.fields if name not in fields]
    if not unknown:
        return None
    return RowError(
        record.line, f"unknown field {shown(unknown[0])} (fields are {', '.join(fields)})"
    )


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def integer(field: str, value: object, noun: str = "an integer") -> int:
    """A JSON integer, or CSV text of one (sign and ASCII digits only); `noun` says what is
    expected in the error. Its range is the caller's to check."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None or value == "":
        raise InvalidInputError(field, "is required")
    if not isinstance(value, str) or not _INTEGER.fullmatch(value):
        raise InvalidInputError(field, f"must be {noun}, got {shown(value)}")
    if len(value.lstrip("+-")) > _MAX_DIGITS:
        raise InvalidInputError(field, f"is out of range: {shown(value)}")
    return int(value)


def shown(value: object) -> str:
    """A value quoted back in an error, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
