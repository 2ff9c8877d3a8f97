"""`omnistock credentials`: channel credentials in the encrypted vault."""

from __future__ import annotations

from typing import Annotated

import typer

from omnistock.adapters.secrets import Secret
from omnistock.cli.common import console
from omnistock.config import Settings
from omnistock.domain.errors import OmnistockError
from omnistock.security.vault import CredentialVault, new_master_key

app = typer.Typer(
    no_args_is_help=True, help="Channel credentials, encrypted with OMNISTOCK_MASTER_KEY."
)


def _vault() -> CredentialVault:
    settings = Settings()
    if settings.master_key is None:
        console.print("[red]error:[/] set OMNISTOCK_MASTER_KEY (`omnistock credentials key`)")
        raise typer.Exit(2)
    return CredentialVault(
        settings.credentials_path, Secret(settings.master_key.get_secret_value())
    )


@app.command("key")
def credentials_key() -> None:
    """Print a new master key for OMNISTOCK_MASTER_KEY (keep it out of the repository)."""
    typer.echo(new_master_key().reveal())


@app.command("set")
def credentials_set(
    account: Annotated[str, typer.Argument(help="Channel account id.")],
    name: Annotated[str, typer.Argument(help="Credential name, e.g. consumer_secret.")],
) -> None:
    """Store one secret; the value is read from a hidden prompt or standard input."""
    value = typer.prompt(f"{account} {name}", hide_input=True)
    try:
        _vault().set(account, name, Secret(value))
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"stored {name} for {account}")


@app.command("list")
def credentials_list() -> None:
    """The accounts and the names of their secrets (never the values)."""
    try:
        names = _vault().names()
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    for account, keys in names.items():
        console.print(f"{account}: {', '.join(keys)}")
