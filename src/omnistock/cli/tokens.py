"""`omnistock token`: bearer tokens of the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer

from omnistock.cli.common import ConfigOption, DbOption, console, on_store
from omnistock.clock import SystemClock
from omnistock.security.tokens import Scope, new_token

app = typer.Typer(no_args_is_help=True, help="Bearer tokens of the HTTP API.")


@app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses the token.")],
    scope: Annotated[Scope, typer.Option(help="read < write < admin.")] = Scope.READ,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Issue a token; it is printed once and stored only as a hash."""
    token, stored = new_token()
    now = SystemClock().now()
    on_store(db, config, lambda s: s.tokens.create(name, scope.value, stored, now))
    typer.echo(token.reveal())


@app.command("list")
def token_list(
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Every token's name, scope and state (never the token)."""
    tokens = on_store(db, config, lambda s: s.tokens.all())
    for token in tokens:
        state = "revoked" if token.revoked else "active"
        typer.echo(f"{token.name}\t{token.scope}\t{state}\t{token.created_at:%Y-%m-%d}")


@app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a token at once."""
    done = on_store(db, config, lambda s: s.tokens.revoke(name))
    if not done:
        console.print(f"[red]error:[/] no active token named {name!r}")
        raise typer.Exit(1)
    console.print(f"revoked {name}")
