"""`omnistock import`: an ERP/WMS stock file into the ledger."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from omnistock.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    ImportFile,
    config_file,
    console,
    database,
    show_row_problems,
    with_store,
)
from omnistock.clock import SystemClock
from omnistock.domain.errors import OmnistockError
from omnistock.ingest.import_runner import ImportSummary, run_import
from omnistock.ingest.imports import ImportMode, format_of
from omnistock.process import run as run_async

app = typer.Typer()


@app.command("import")
def import_file(
    file: ImportFile,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = None,
    mode: Annotated[
        ImportMode, typer.Option(help="How rows without a `mode` are read: counts or deltas.")
    ] = ImportMode.ABSOLUTE,
) -> None:
    """Import an ERP/WMS stock file (sku, location, quantity; optional mode, reason,
    occurred_at). Each row applies once, even if the file is imported again.

    Exit code 0: every row applied, now or before; 1: some rows were refused (listed with
    their line numbers); 2: the file could not be imported at all."""
    chosen = fmt or format_of(file.name)
    if chosen is None:
        console.print(f"[red]error:[/] give --format csv or jsonl for {escape(file.name)!r}")
        raise typer.Exit(2)
    data = file.read_bytes()
    try:
        declared = config_file(config)
        url = database(db, declared).value
        with Progress(console=console) as bar:
            task = bar.add_task(f"importing {escape(file.name)}", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = run_async(
                with_store(
                    url,
                    lambda store: run_import(
                        store,
                        file.name,
                        data,
                        fmt=chosen,
                        default_mode=mode,
                        clock=SystemClock(),
                        progress=advance,
                    ),
                    declared=declared,
                )
            )
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    _show_import(summary)
    if not summary.complete:
        raise typer.Exit(1)


def _show_import(summary: ImportSummary) -> None:
    table = Table(title=f"Import {escape(summary.source)} (file id {summary.file_id})")
    for column in ("rows", "applied", "duplicates", "rejected", "errors", "seconds", "rows/s"):
        table.add_column(column, justify="right")
    rate = summary.rows / summary.seconds if summary.seconds > 0 else 0.0
    counts = (summary.rows, summary.applied, summary.duplicates)
    refused = (len(summary.rejected), len(summary.errors))
    table.add_row(*map(str, counts + refused), f"{summary.seconds:.2f}", f"{rate:,.0f}")
    console.print(table)
    problems = sorted(
        [(r.line, f"refused ({r.code}): {r.reason}") for r in summary.rejected]
        + [(e.line, e.reason) for e in summary.errors]
    )
    show_row_problems(problems)
