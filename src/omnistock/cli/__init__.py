"""The `omnistock` command: the only composition root.

Builds Settings once, opens what each command needs, and hands it down explicitly. One
module per command or group; the commands served by the test kit (`demo`, `bench`,
`sandbox`, in `cli/kit.py`) import it inside their bodies, so that the product's commands
(`run`, `import`, …) never load an emulator."""

from __future__ import annotations

import typer

from omnistock.cli import (
    accounts,
    catalog,
    credentials,
    db,
    kit,
    ledger,
    listings,
    run,
    stock,
    sync,
    tokens,
)
from omnistock.process import configure as configure_process

app = typer.Typer(
    no_args_is_help=True, help="Keep the stock every channel shows equal to the truth."
)
for commands in (kit.app, stock.app, run.app):
    app.registered_commands.extend(commands.registered_commands)
app.add_typer(ledger.app, name="ledger")
app.add_typer(credentials.app, name="credentials")
app.add_typer(tokens.app, name="token")
app.add_typer(db.app, name="db")
app.add_typer(sync.app, name="sync")
app.add_typer(catalog.app, name="catalog")
app.add_typer(accounts.app, name="accounts")
app.add_typer(listings.app, name="listings")


@app.callback()
def _process() -> None:
    configure_process()
