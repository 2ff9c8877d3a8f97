"""Reading stock files: rows become counts or deltas with file-specific keys, and every
bad row becomes a RowError on its own line, never an exception."""

from __future__ import annotations

import hashlib
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone

import pytest

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import StockAdjusted, StockCounted
from omnistock.domain.ids import LocationId, Sku
from omnistock.ingest.imports import (
    ImportFormat,
    ImportMode,
    ImportOptions,
    ImportRow,
    ParsedRow,
    RowError,
    StockFile,
    count_lines,
    file_digest,
    read_stock_file,
    row_key,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
HEADER = b"sku,location,quantity,mode,reason,occurred_at\n"


def _file(
    data: bytes, fmt: ImportFormat = ImportFormat.CSV, mode: ImportMode = ImportMode.ABSOLUTE
) -> StockFile:
    options = ImportOptions(default_mode=mode, occurred_at=NOW, source="import:test.csv")
    return read_stock_file(data, fmt, options)


def _rows(
    data: bytes, fmt: ImportFormat = ImportFormat.CSV, mode: ImportMode = ImportMode.ABSOLUTE
) -> list[ParsedRow]:
    return list(_file(data, fmt, mode).rows)


def _errors(data: bytes, fmt: ImportFormat = ImportFormat.CSV) -> list[tuple[int, str]]:
    return [(r.line, r.reason) for r in _rows(data, fmt) if isinstance(r, RowError)]


def _events(
    data: bytes, mode: ImportMode = ImportMode.ABSOLUTE
) -> list[StockCounted | StockAdjusted]:
    rows = _rows(data, mode=mode)
    assert all(isinstance(r, ImportRow) for r in rows), rows
    return [r.event for r in rows if isinstance(r, ImportRow)]


def test_absolute_rows_become_counts_and_delta_rows_adjustments() -> None:
    data = (
        HEADER + b"A,wh1,5,,,\nB,wh1,-3,delta,,2026-11-26T08:00:00+01:00\nC,wh2,+4,DELTA,damaged,\n"
    )
    digest = hashlib.sha256(data).hexdigest()[:16]
    a, b, c = _events(data)
    assert a == StockCounted(
        idempotency_key=f"import:{digest}:2",
        sku=Sku("A"),
        location=LocationId("wh1"),
        quantity=5,
        source="import:test.csv",
        occurred_at=NOW,
    )
    assert isinstance(b, StockAdjusted)
    assert (b.quantity, b.reason, b.idempotency_key) == (-3, "import", f"import:{digest}:3")
    assert b.occurred_at == datetime(2026, 11, 26, 8, tzinfo=timezone(timedelta(hours=1)))
    assert isinstance(c, StockAdjusted)
    assert (c.location, c.quantity, c.reason) == ("wh2", 4, "damaged")


def test_the_default_mode_applies_to_rows_without_one() -> None:
    [event] = _events(b"sku,location,quantity\nA,wh1,-2\n", mode=ImportMode.DELTA)
    assert isinstance(event, StockAdjusted)
    assert event.quantity == -2


def test_header_names_are_read_case_and_blank_insensitively() -> None:
    [event] = _events(b" SKU , Location,QUANTITY\nA,wh1,1\n")
    assert (event.sku, event.quantity) == ("A", 1)


def test_bom_crlf_and_blank_lines_keep_the_files_own_line_numbers() -> None:
    data = b"\xef\xbb\xbfsku,location,quantity\r\n\r\nA,wh1,1\r\n   \r\n\r\nB,wh1,x\r\nC,wh1,3"
    rows = _rows(data)
    assert [r.line for r in rows] == [3, 6, 7]
    assert isinstance(rows[0], ImportRow)
    assert rows[0].event.sku == "A"  # the BOM is not part of the first column's name
    assert rows[1] == RowError(6, "quantity: must be an integer, got 'x'")


def test_lone_carriage_returns_end_lines_too() -> None:
    rows = _rows(b"sku,location,quantity\rA,wh1,1\rB,wh1,?\r")
    assert [r.line for r in rows] == [2, 3]
    assert isinstance(rows[1], RowError)


def test_a_quoted_line_break_keeps_later_line_numbers_right() -> None:
    data = b'sku,location,quantity\n"A\nB",wh1,1\nC,wh1,bad\n'
    rows = _rows(data)
    assert rows[0] == RowError(2, "sku: must not contain control characters")
    assert rows[1] == RowError(4, "quantity: must be an integer, got 'bad'")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (b"A,wh1", "expected 3 columns, got 2"),
        (b"A,wh1,1,extra", "expected 3 columns, got 4"),
        (b",wh1,1", "sku: is required"),
        (b"A,,1", "location: is required"),
        (b"A,wh1,", "quantity: is required"),
        (b" A,wh1,1", "sku: must not start or end with white space"),
        (b"A\x07,wh1,1", "sku: must not contain control characters"),
        (b"A," + b"w" * 129 + b",1", "location: must be at most 128 characters"),
        (b"A,wh1,1.5", "quantity: must be an integer, got '1.5'"),
        (b"A,wh1,five", "quantity: must be an integer, got 'five'"),
        (b"A,wh1, 5", "quantity: must be an integer, got ' 5'"),
        (b"A,wh1,5_000", "quantity: must be an integer, got '5_000'"),
        ("A,wh1,\u0665".encode(), "quantity: must be an integer, got '\u0665'"),  # Arabic 5
        (b"A,wh1,2147483648", "quantity: must be at most 2147483647, got 2147483648"),
        (b"A,wh1,99999999999999999999", "quantity: is out of range: '99999999999999999999'"),
        (b"A,wh1,-1", "quantity: must be at least 0, got -1"),
        (b'A,wh1,"1"x', "malformed CSV: ',' expected after '\"'"),
    ],
)
def test_a_bad_csv_row_is_an_error_on_its_line(row: bytes, reason: str) -> None:
    data = b"sku,location,quantity\nOK,wh1,1\n" + row + b"\nOK,wh1,2\n"
    rows = _rows(data)
    assert [r.line for r in rows] == [2, 3, 4]
    assert rows[1] == RowError(3, reason)
    assert isinstance(rows[0], ImportRow)
    assert isinstance(rows[2], ImportRow)  # the rows around a bad one still parse


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (b"A,wh1,1,sideways,,", "mode: must be 'absolute' or 'delta', got 'sideways'"),
        (b"A,wh1,0,delta,,", "quantity: must not be zero"),
        (b"A,wh1,-2147483648,delta,,", "quantity: must be within ±2147483647, got -2147483648"),
        (b"A,wh1,1,absolute,recount,", "reason: only delta rows take a reason"),
        (b"A,wh1,1,,,2026-11-27T10:00:00", "occurred_at: must include a UTC offset"),
        (b"A,wh1,1,,,2026-11-27", "occurred_at: must include a UTC offset"),
        (b"A,wh1,1,,,yesterday", "occurred_at: must be an ISO-8601 date and time"),
        (b"A,wh1,1,,,2026-02-30T10:00:00Z", "occurred_at: must be an ISO-8601 date and time"),
        (b"A,wh1,1,delta,\x01,", "reason: must not contain control characters"),
    ],
)
def test_bad_optional_columns_are_errors_on_their_line(fields: bytes, reason: str) -> None:
    [row] = _rows(HEADER + b"\n" + fields + b"\n")
    assert isinstance(row, RowError)
    assert row.line == 3
    assert row.reason.startswith(reason)


def test_the_maximum_quantities_are_accepted() -> None:
    data = HEADER + b"A,wh1,2147483647,,,\nA,wh1,-2147483647,delta,,\n"
    assert [e.quantity for e in _events(data)] == [2**31 - 1, -(2**31 - 1)]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "header: the file is empty"),
        (b"\n \n\r\n", "header: the file is empty"),
        (b"sku,location,qty\nA,wh1,1\n", "header: unknown column 'qty' (line 1;"),
        (b"\nsku,location,quantity,colour\n", "header: unknown column 'colour' (line 2;"),
        (b"sku,location\n", "header: column 'quantity' is missing"),
        (b"sku,location,quantity,sku\n", "header: column 'sku' appears twice"),
        (b'sku,"location\n', "header: malformed CSV"),
        (b"sku,location,quantity\nA,wh1,1\nB,\xe9,1\n", "file: is not UTF-8 text (line 3)"),
        (b"\xff\xfes\x00k\x00u\x00", "file: is not UTF-8 text (line 1)"),  # UTF-16
    ],
)
def test_a_file_level_problem_raises_before_any_row(data: bytes, problem: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _file(data)
    assert str(caught.value).startswith(problem)


def test_a_character_cut_by_the_utf8_check_slices_is_still_valid() -> None:
    # 2-byte characters at odd offsets straddle every 64 KiB slice boundary.
    data = b"sku,location,quantity\n" + "é".encode() * 100_000 + b",wh1,1\n"
    [row] = _rows(data)
    assert isinstance(row, RowError)
    assert row.reason == "sku: must be at most 128 characters"


def test_a_malformed_source_is_refused() -> None:
    options = ImportOptions(default_mode=ImportMode.ABSOLUTE, occurred_at=NOW, source=" x")
    with pytest.raises(InvalidInputError, match="source"):
        read_stock_file(b"sku,location,quantity\n", ImportFormat.CSV, options)


def test_jsonl_rows_and_their_errors() -> None:
    data = (
        b'{"sku": "A", "location": "wh1", "quantity": 5}\n'
        b"\n"
        b'{"sku": "B", "location": "wh1", "quantity": -2, "mode": "delta", "reason": null}\r\n'
        b'{"sku": "C", "location": "wh1", "quantity": "7", "occurred_at": null}\n'
        b"[1, 2]\n"
        b'{"sku": "A", "location": "wh1"\n'
        b'{"sku": "A", "location": "wh1", "quantity": NaN}\n'
        b'{"sku": "A", "location": "wh1", "quantity": 1, "colour": "red"}\n'
        b'{"sku": 12, "location": "wh1", "quantity": 1}\n'
        b'{"sku": "A", "location": "wh1", "quantity": 1.0}\n'
        b'{"sku": "A", "location": "wh1", "quantity": true}\n'
        b'{"sku": "A", "location": "wh1", "quantity": 1, "occurred_at": 1700000000}\n'
        b'{"sku": "A", "location": "wh1", "quantity": 1, "mode": 1}\n'
        b'{"sku": "A", "location": "wh1", "quantity": 1' + b"0" * 5000 + b"}\n"
    )
    rows = _rows(data, ImportFormat.JSONL)
    good = [r for r in rows if isinstance(r, ImportRow)]
    assert [(r.line, r.event.sku, r.event.quantity) for r in good] == [
        (1, "A", 5),
        (3, "B", -2),
        (4, "C", 7),
    ]
    assert isinstance(good[1].event, StockAdjusted)
    assert good[1].event.reason == "import"
    assert good[2].event.occurred_at == NOW
    errors = [(r.line, r.reason) for r in rows if isinstance(r, RowError)]
    assert errors == [
        (5, "must be a JSON object"),
        (6, "malformed JSON: Expecting ',' delimiter (column 31)"),
        (7, "malformed JSON: NaN is not a number"),
        (
            8,
            "unknown field 'colour' (fields are sku, location, quantity, mode, reason,"
            " occurred_at)",
        ),
        (9, "sku: must be a string, got int"),
        (10, "quantity: must be an integer, got 1.0"),
        (11, "quantity: must be an integer, got True"),
        (12, "occurred_at: must be a string, got int"),
        (13, "mode: must be 'absolute' or 'delta', got 1"),
        (14, errors[-1][1]),
    ]
    assert errors[-1][1].startswith("malformed JSON: Exceeds the limit")


def test_an_empty_jsonl_file_has_no_rows_but_a_non_utf8_one_is_refused() -> None:
    assert _rows(b"\n\n", ImportFormat.JSONL) == []
    with pytest.raises(InvalidInputError, match="file: is not UTF-8"):
        _file(b'{"sku": "\xc3("}\n', ImportFormat.JSONL)


def test_keys_are_stable_per_file_and_line_and_differ_between_files() -> None:
    one = b"sku,location,quantity\nA,wh1,1\nB,wh1,2\n"
    other = b"sku,location,quantity\nA,wh1,1\nB,wh1,3\n"
    first = [e.idempotency_key for e in _events(one)]
    assert first == [e.idempotency_key for e in _events(one)]
    assert first == [row_key(file_digest(one), 2), row_key(file_digest(one), 3)]
    assert set(first).isdisjoint(e.idempotency_key for e in _events(other))
    assert _file(one).file_id == hashlib.sha256(one).hexdigest()[:16]


def test_a_different_default_time_or_mode_keeps_the_keys() -> None:
    data = b"sku,location,quantity\nA,wh1,1\n"
    later = ImportOptions(
        default_mode=ImportMode.DELTA, occurred_at=NOW + timedelta(days=1), source="import:x"
    )
    [row] = list(read_stock_file(data, ImportFormat.CSV, later).rows)
    assert isinstance(row, ImportRow)
    assert row.event.idempotency_key == _events(data)[0].idempotency_key


@pytest.mark.parametrize(
    ("data", "lines"),
    [(b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\r\nb\r\n", 2), (b"a\rb\rc", 3)],
)
def test_count_lines(data: bytes, lines: int) -> None:
    assert count_lines(data) == lines


def test_rows_are_read_lazily_without_a_second_copy_of_the_file() -> None:
    data = b"sku,location,quantity\n" + b"".join(
        b"SKU-%06d,wh1,%d\n" % (i, i % 50) for i in range(20_000)
    )
    tracemalloc.start()
    try:
        stock_file = _file(data)
        rows = sum(1 for row in stock_file.rows if isinstance(row, ImportRow))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (rows, stock_file.lines) == (20_000, 20_001)
    assert peak < len(data) // 4, (peak, len(data))
