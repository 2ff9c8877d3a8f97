"""`omnistock import FILE`, run in process: progress, summary, row errors, exit codes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnistock.cli import app
from omnistock.domain.balance import Balance
from omnistock.domain.ids import Sku
from omnistock.ledger.store import Store
from tests.contract.builders import WH

runner = CliRunner()


def _on_hand(url: str) -> dict[str, Balance]:
    async def read() -> dict[str, Balance]:
        store = await Store.open(url)
        try:
            balances = await store.ledger.balances([Sku("A"), Sku("B")])
        finally:
            await store.close()
        return {sku: at[WH] for sku, at in balances.items()}

    return asyncio.run(read())


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_clean_import_shows_progress_and_a_summary_and_exits_0(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, "stock.csv", b"sku,location,quantity\nA,wh1,5\nB,wh1,3\n")
    result = runner.invoke(app, ["import", str(path), "--db", url])
    assert result.exit_code == 0, result.output
    assert "importing stock.csv" in result.output
    assert "100%" in result.output
    assert "import:stock.csv" in result.output
    assert _on_hand(url) == {"A": Balance(5, 0), "B": Balance(3, 0)}
    again = runner.invoke(app, ["import", str(path), "--db", url])
    assert again.exit_code == 0, again.output  # all duplicates: nothing refused
    assert _on_hand(url) == {"A": Balance(5, 0), "B": Balance(3, 0)}


def test_refused_rows_are_listed_by_line_and_exit_1(tmp_path: Path, url: str) -> None:
    data = b"sku,location,quantity,mode\nA,wh1,5,\nZZ,wh1,1,\nB,wh1,-1,delta\nB,wh1,x,\n"
    path = _write(tmp_path, "mixed.csv", data)
    result = runner.invoke(app, ["import", str(path), "--db", url])
    assert result.exit_code == 1, result.output
    assert "line 3: unknown sku 'ZZ'" in result.output
    assert "line 4: refused (negative_on_hand)" in result.output
    assert "line 5: quantity: must be an integer, got 'x'" in result.output
    assert _on_hand(url) == {"A": Balance(5, 0)}


def test_at_most_twenty_row_errors_are_shown(tmp_path: Path, url: str) -> None:
    data = b"sku,location,quantity\n" + b"NOPE,wh1,1\n" * 25
    path = _write(tmp_path, "bad.csv", data)
    result = runner.invoke(app, ["import", str(path), "--db", url])
    assert result.exit_code == 1
    assert result.output.count("unknown sku 'NOPE'") == 20
    assert "line 21:" in result.output
    assert "line 22:" not in result.output
    assert "and 5 more rows refused" in result.output


def test_format_and_mode_options(tmp_path: Path, url: str) -> None:
    data = b'{"sku": "A", "location": "wh1", "quantity": 4}\n'
    path = _write(tmp_path, "stock.txt", data)
    unknown = runner.invoke(app, ["import", str(path), "--db", url])
    assert unknown.exit_code == 2
    assert "give --format csv or jsonl" in unknown.output
    for _ in range(2):
        result = runner.invoke(
            app, ["import", str(path), "--db", url, "--format", "jsonl", "--mode", "delta"]
        )
        assert result.exit_code == 0, result.output
    assert _on_hand(url) == {"A": Balance(4, 0)}
    jsonl = _write(tmp_path, "more.jsonl", b'{"sku": "B", "location": "wh1", "quantity": 2}\n')
    assert runner.invoke(app, ["import", str(jsonl), "--db", url]).exit_code == 0
    assert _on_hand(url)["B"] == Balance(2, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,location,qty\nA,wh1,1\n", "unknown column 'qty'"),
        (b"sku,location,quantity\nA,wh1,\xff\n", "is not UTF-8 text (line 2)"),
    ],
)
def test_a_file_level_error_exits_2_and_writes_nothing(
    tmp_path: Path, url: str, data: bytes, message: str
) -> None:
    path = _write(tmp_path, "broken.csv", data)
    result = runner.invoke(app, ["import", str(path), "--db", url])
    assert result.exit_code == 2
    assert message in result.output
    assert _on_hand(url) == {}


def test_a_missing_file_is_a_usage_error(tmp_path: Path, url: str) -> None:
    result = runner.invoke(app, ["import", str(tmp_path / "nope.csv"), "--db", url])
    assert result.exit_code == 2
