"""`omnistock catalog import FILE` and `omnistock catalog export`, run in process: progress,
summary, row errors, exit codes, the JSON summary and the exported file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from omnistock.cli import app
from omnistock.domain.catalog import Item
from omnistock.ledger.store import Store

runner = CliRunner()
ITEMS = b"sku,name\nA,Apple\nB,Banana\nNEW,New one\n"


def _items(url: str) -> dict[str, str]:
    async def read() -> list[Item]:
        store = await Store.open(url)
        try:
            return await store.catalog.items()
        finally:
            await store.close()

    return {item.sku: item.name for item in asyncio.run(read())}


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_clean_import_shows_progress_and_counts_and_exits_0(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, "items.csv", ITEMS)
    result = runner.invoke(app, ["catalog", "import", str(path), "--db", url])
    assert result.exit_code == 0, result.output
    assert "importing items.csv" in result.output
    assert "100%" in result.output
    assert "│ item │       1 │       2 │         0 │" in result.output
    assert "3 records, 0 refused" in result.output
    assert _items(url) == {"A": "Apple", "B": "Banana", "NEW": "New one"}
    again = runner.invoke(app, ["catalog", "import", str(path), "--db", url, "--json"])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 3)
    assert summary["applied"] is True


def test_bad_rows_are_listed_by_line_nothing_applies_and_exit_1(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, "kits.csv", b"bundle_sku,component_sku,quantity\nA,B,x\nB,A,1\n")
    result = runner.invoke(app, ["catalog", "import", str(path), "--db", url, "--json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.output)
    assert summary["applied"] is False
    # Bundle A is refused, so B may contain A: B is good, but waits with the whole file.
    assert summary["errors"] == [
        {"line": 2, "reason": "quantity: must be a positive integer, got 'x'"}
    ]
    assert (summary["records"], summary["refused"], summary["created"]) == (2, 1, 0)
    table = runner.invoke(app, ["catalog", "import", str(path), "--db", url])
    assert table.exit_code == 1
    assert "line 2: quantity: must be a positive integer, got 'x'" in table.output
    assert "nothing was applied" in table.output


def test_skip_bad_rows_applies_the_good_ones_and_still_exits_1(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, "items.csv", ITEMS + b"BAD ,x\n")
    result = runner.invoke(
        app, ["catalog", "import", str(path), "--db", url, "--skip-bad-rows", "--json"]
    )
    assert result.exit_code == 1, result.output
    summary = json.loads(result.output)
    assert summary["applied"] is True
    assert (summary["created"], summary["updated"], summary["refused"]) == (1, 2, 1)
    assert summary["errors"] == [
        {"line": 5, "reason": "sku: must not start or end with white space"}
    ]
    assert _items(url)["NEW"] == "New one"


def test_a_file_that_cannot_be_read_exits_2(tmp_path: Path, url: str) -> None:
    latin = _write(tmp_path, "latin.csv", b"sku,name\nA,caf\xe9\n")
    result = runner.invoke(app, ["catalog", "import", str(latin), "--db", url])
    assert result.exit_code == 2
    assert "latin.csv: file: is not UTF-8 text (line 2)" in result.output
    unknown = _write(tmp_path, "what.csv", b"colour\nred\n")
    result = runner.invoke(app, ["catalog", "import", str(unknown), "--db", url])
    assert result.exit_code == 2
    assert "cannot tell the kind" in result.output
    result = runner.invoke(
        app, ["catalog", "import", str(_write(tmp_path, "x.txt", b"")), "--db", url]
    )
    assert result.exit_code == 2
    assert "give --format csv or jsonl" in result.output
    assert _items(url) == {"A": "", "B": ""}


def test_kind_and_format_options_read_a_file_whatever_its_name(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, "export.txt", b'{"kind": "item", "sku": "A", "name": "x"}\n')
    args = ["catalog", "import", str(path), "--db", url, "--format", "jsonl", "--kind", "item"]
    assert runner.invoke(app, args).exit_code == 0
    assert _items(url)["A"] == "x"


def test_export_writes_what_import_reads(tmp_path: Path, url: str) -> None:
    result = runner.invoke(app, ["catalog", "export", "--db", url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == '{"kind": "location", "id": "wh1", "name": "Main"}'
    assert len(lines) == 4  # wh1, A, B and the shop's policy; the listings have no override
    out = tmp_path / "items.csv"
    result = runner.invoke(
        app, ["catalog", "export", "--db", url, "--kind", "item", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text() == "sku,name\nA,\nB,\n"
    result = runner.invoke(app, ["catalog", "import", str(out), "--db", url, "--json"])
    assert json.loads(result.output)["unchanged"] == 2


def test_csv_export_needs_a_kind(url: str) -> None:
    result = runner.invoke(app, ["catalog", "export", "--db", url, "--format", "csv"])
    assert result.exit_code == 2
    assert "a CSV file holds one kind of record: give --kind" in result.output


def test_a_store_that_cannot_be_opened_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.csv", ITEMS)
    result = runner.invoke(app, ["catalog", "import", str(path), "--db", "mysql://x/y"])
    assert result.exit_code == 2
    assert "unsupported database URL scheme: 'mysql'" in result.output
    result = runner.invoke(app, ["catalog", "export", "--db", "mysql://x/y"])
    assert result.exit_code == 2


def test_an_export_that_cannot_be_written_exits_2_and_writes_nothing(
    tmp_path: Path, url: str
) -> None:
    out = tmp_path / "missing" / "catalog.jsonl"
    result = runner.invoke(app, ["catalog", "export", "--db", url, "--out", str(out)])
    assert result.exit_code == 2
    assert "No such file or directory" in result.output
    assert not out.parent.exists()
