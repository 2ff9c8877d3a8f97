"""`omnistock run`: the engine for real accounts."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from omnistock.adapters.secrets import Secret
from omnistock.cli.common import console
from omnistock.config import Settings
from omnistock.domain.errors import OmnistockError
from omnistock.engine_config import EngineConfig, load_config
from omnistock.process import run as run_async
from omnistock.runner import dry_run as preview_first_sync
from omnistock.runner import run_engine
from omnistock.security.vault import CredentialVault

app = typer.Typer()


@app.command()
def run(
    config: Annotated[Path, typer.Option(help="The engine's TOML configuration.")],
    dry_run: Annotated[
        bool, typer.Option(help="Show what the first sync would write, then stop.")
    ] = False,
) -> None:
    """Run the engine for real accounts until interrupted (SIGINT or SIGTERM)."""
    settings = Settings()
    try:
        engine_config = load_config(config)
        vault = None
        if settings.master_key is not None:
            key = Secret(settings.master_key.get_secret_value())
            vault = CredentialVault(settings.credentials_path, key)
        if dry_run:
            counts = run_async(preview_first_sync(engine_config, vault=vault, environ=os.environ))
            for account, n in counts.items():
                console.print(f"{account}: {n} listings would be written")
            return
        run_async(_run_until_signalled(engine_config, vault))
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


async def _run_until_signalled(config: EngineConfig, vault: CredentialVault | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    console.print(f"omnistock running: webhooks and API on http://{config.listen}")
    await run_engine(config, vault=vault, environ=os.environ, stop=stop)
