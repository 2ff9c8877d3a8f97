"""`omnistock ledger`: inspect and check the ledger."""

from __future__ import annotations

from typing import Annotated

import typer

from omnistock.cli.common import console, with_store
from omnistock.config import Settings
from omnistock.domain.errors import OmnistockError
from omnistock.process import run as run_async

app = typer.Typer(no_args_is_help=True, help="Inspect and check the ledger.")


@app.command("verify")
def ledger_verify(
    db: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Rebuild balances and desired quantities from the event log and compare them."""
    url = db or Settings().database_url
    try:
        report = run_async(with_store(url, lambda store: store.verify()))
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(
        f"{report.events} events, {report.balances} balances, {report.listings} listings checked"
    )
    for mismatch in report.mismatches:
        console.print(f"[red]mismatch:[/] {mismatch}")
    if not report.ok:
        raise typer.Exit(1)
    console.print("[green]the live projections equal the ones rebuilt from the log[/]")
