"""`omnistock run`: the engine for real accounts."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Annotated

import typer

from omnistock.cli.common import (
    ConfigOption,
    DbOption,
    ListenOption,
    console,
    engine_config,
    fail,
    vault,
)
from omnistock.cli.sync import show_plans
from omnistock.domain.errors import OmnistockError
from omnistock.engine_config import EngineConfig
from omnistock.process import run as run_async
from omnistock.runner import plan_sync, run_engine
from omnistock.security.vault import CredentialVault

app = typer.Typer()


@app.command()
def run(
    config: ConfigOption = None,
    db: DbOption = None,
    listen: ListenOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            help="Show the first push's plan (channel now → what would be written), writing "
            "nothing to the channels or the database, then stop."
        ),
    ] = False,
) -> None:
    """Run the engine for real accounts until interrupted (SIGINT or SIGTERM)."""
    try:
        chosen = engine_config(config, db=db, listen=listen)
        credentials = vault()
        if dry_run:
            plans = run_async(plan_sync(chosen, vault=credentials, environ=os.environ))
            show_plans(plans)
            return
        run_async(_run_until_signalled(chosen, credentials))
    except OmnistockError as exc:
        fail(str(exc))


async def _run_until_signalled(config: EngineConfig, credentials: CredentialVault | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    console.print(f"omnistock running: webhooks and API on http://{config.listen}")
    await run_engine(config, vault=credentials, environ=os.environ, stop=stop, say=console.print)
