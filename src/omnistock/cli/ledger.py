"""`omnistock ledger`: inspect and check the ledger."""

from __future__ import annotations

import typer

from omnistock.cli.common import ConfigOption, DbOption, console, on_store

app = typer.Typer(no_args_is_help=True, help="Inspect and check the ledger.")


@app.command("verify")
def ledger_verify(
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Rebuild balances and desired quantities from the event log and compare them."""
    report = on_store(db, config, lambda store: store.verify())
    console.print(
        f"{report.events} events, {report.balances} balances, {report.listings} listings checked"
    )
    for mismatch in report.mismatches:
        console.print(f"[red]mismatch:[/] {mismatch}")
    if not report.ok:
        raise typer.Exit(1)
    console.print("[green]the live projections equal the ones rebuilt from the log[/]")
