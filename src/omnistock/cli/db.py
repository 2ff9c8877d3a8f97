"""`omnistock db`: create or upgrade the database's schema, and show where it stands.

Only these and `omnistock run` (which says in its log what it applied) change the schema;
every other command refuses a database that is missing or behind."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from omnistock.cli.common import ConfigOption, DbOption, console, database, on_store
from omnistock.ledger.migrations import MigrationStatus

app = typer.Typer(no_args_is_help=True, help="The database's schema: migrate, status.")


@app.command("migrate")
def db_migrate(db: DbOption = None, config: ConfigOption = None) -> None:
    """Create the database if it does not exist and apply every pending migration."""
    applied = on_store(db, config, lambda s: s.migrate(), schema="connect")
    where = database(db, config).value
    for name in applied:
        console.print(f"applied {name}")
    console.print(f"{where}: {len(applied) or 'no'} migration(s) applied; the schema is current")


@app.command("status")
def db_status(
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The applied migrations (with the checksum recorded and the one shipped) and the
    pending ones. Exit status 1 when any is pending or an applied one was modified."""
    found = on_store(db, config, lambda s: s.migration_status(), schema="inspect")
    modified = [a.name for a in found.applied if not a.matches]
    if as_json:
        typer.echo(json.dumps(_as_json(found), sort_keys=True))
    else:
        _show(found)
    if found.pending or modified:
        raise typer.Exit(1)


def _show(found: MigrationStatus) -> None:
    table = Table(title="schema migrations")
    for column in ("version", "name", "state", "checksum (sha256)"):
        table.add_column(column)
    for a in found.applied:
        state = "applied" if a.matches else "applied, script changed since"
        shown = (a.checksum or "(not recorded)")[:16]
        table.add_row(str(a.version), a.name, state, shown, style=None if a.matches else "red")
    for m in found.pending:
        table.add_row(str(m.version), m.name, "pending", m.checksum[:16], style="yellow")
    console.print(table)
    if not found.has_schema:
        console.print("no omnistock schema yet: `omnistock db migrate` creates it")


def _as_json(found: MigrationStatus) -> dict[str, object]:
    return {
        "has_schema": found.has_schema,
        "applied": [
            {
                "version": a.version,
                "name": a.name,
                "checksum": a.checksum,
                "shipped_checksum": a.shipped,
                "matches": a.matches,
            }
            for a in found.applied
        ],
        "pending": [
            {"version": m.version, "name": m.name, "checksum": m.checksum} for m in found.pending
        ],
    }
