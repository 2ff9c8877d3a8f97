"""`omnistock catalog`: import and export the catalog as CSV or JSONL files.

The file format is docs/catalog-files.md; accounts stay in the TOML configuration."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
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
    fail,
    show_row_problems,
    with_store,
)
from omnistock.domain.catalog_batch import CatalogKind
from omnistock.domain.errors import DomainError, OmnistockError
from omnistock.engine_config import EngineConfig
from omnistock.ingest.catalog_file import MAX_FILE_BYTES, CatalogFile, read_catalog_file
from omnistock.ingest.catalog_import import (
    CatalogImportSummary,
    export_catalog,
    run_catalog_import,
)
from omnistock.ingest.imports import ImportFormat, format_of
from omnistock.process import run as run_async

app = typer.Typer(
    no_args_is_help=True,
    help="Import and export the catalog (locations, items, bundles, policies) as CSV or JSONL.",
)

Kind = Annotated[CatalogKind | None, typer.Option(help="The kind of records.")]


@app.command("import")
def import_file(
    file: ImportFile,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = None,
    kind: Annotated[
        CatalogKind | None,
        typer.Option(help="The only kind the file holds (CSV default: told by the header)."),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option(help="Apply the good rows of a file that has bad ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary.")] = False,
) -> None:
    """Import catalog records: all in one transaction, each row checked first. Importing
    the same file again changes nothing (its records are counted unchanged).

    Exit code 0: every record applied; 1: rows were refused (listed by line; nothing was
    applied unless --skip-bad-rows); 2: the file could not be read or imported at all."""
    chosen = fmt or format_of(file.name)
    if chosen is None:
        fail(f"give --format csv or jsonl for {file.name!r}")
    try:
        with file.open("rb") as handle:
            # One byte past the limit is enough for the reader to refuse a file too large.
            data = handle.read(MAX_FILE_BYTES + 1)
        catalog_file = read_catalog_file(data, chosen, kind)
    except (OSError, OmnistockError) as exc:
        fail(f"{file.name}: {exc}")
    try:
        declared = config_file(config)
        url = database(db, declared).value
        summary = _import(url, file.name, catalog_file, skip_bad_rows, as_json, declared)
    except DomainError as exc:  # the catalog changed under the import: nothing was written
        fail(f"{file.name}: refused, nothing written: {exc}", code=1)
    except OmnistockError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(summary.to_json(), sort_keys=True))
    else:
        _show(summary)
    if not summary.complete:
        raise typer.Exit(1)


def _import(
    url: str,
    name: str,
    catalog_file: CatalogFile,
    skip_bad_rows: bool,
    quiet: bool,
    declared: EngineConfig | None,
) -> CatalogImportSummary:
    with Progress(console=console, disable=quiet) as bar:
        task = bar.add_task(f"importing {escape(name)}", total=catalog_file.lines)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_async(
            with_store(
                url,
                lambda store: run_catalog_import(
                    store, name, catalog_file, skip_bad_rows=skip_bad_rows, progress=advance
                ),
                declared=declared,
            )
        )


def _show(summary: CatalogImportSummary) -> None:
    table = Table(title=f"Catalog import {escape(summary.source)}")
    for column in ("kind", "created", "updated", "unchanged"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, counts in summary.by_kind.items():
        if counts.created or counts.updated or counts.unchanged:
            table.add_row(
                kind.value, str(counts.created), str(counts.updated), str(counts.unchanged)
            )
    total = summary.total()
    table.add_row("all", str(total.created), str(total.updated), str(total.unchanged))
    console.print(table)
    console.print(f"{summary.records} records, {summary.refused} refused, {summary.seconds:.2f} s")
    show_row_problems([(e.line, e.reason) for e in summary.errors])
    if not summary.applied:
        console.print(
            "[red]nothing was applied:[/] the file has bad rows"
            " (fix them, or --skip-bad-rows to apply the good ones)"
        )


@app.command("export")
def export_file(
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="jsonl or csv (default: from --out, else jsonl)."),
    ] = None,
    kind: Kind = None,
    out: Annotated[
        Path | None, typer.Option(dir_okay=False, help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write the catalog (locations, items, bundles, account policies, listing overrides)
    as a file `omnistock catalog import` reads back; CSV holds one --kind."""
    chosen = fmt or (format_of(out.name) if out is not None else None) or ImportFormat.JSONL
    try:
        url = database(db, config).value
        lines = run_async(with_store(url, lambda s: export_catalog(s, chosen, kind)))
    except OmnistockError as exc:
        fail(str(exc))
    if out is None:
        typer.echo("".join(lines), nl=False)
        return
    try:
        _write_whole(out, "".join(lines).encode())
    except OSError as exc:
        fail(f"{out}: {exc.strerror or exc}")
    console.print(
        f"wrote {len(lines) - (chosen is ImportFormat.CSV)} records to {escape(str(out))}"
    )


def _write_whole(path: Path, data: bytes) -> None:
    """Replace `path` at once: a reader never sees half a file, a failure leaves the old."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
