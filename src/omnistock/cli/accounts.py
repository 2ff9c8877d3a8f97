"""`omnistock accounts`: connect an account's notifications to the engine through the
platform's own API (webhook subscriptions, destinations), and disconnect them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from omnistock.adapters.amazon.settings import NOTIFICATION_QUEUE
from omnistock.adapters.base import RegistersNotifications, SubscriptionReport
from omnistock.cli.common import ConfigOption, config_file, console, fail
from omnistock.cli.common import vault as credential_vault
from omnistock.clock import SystemTimer
from omnistock.domain.catalog import ChannelAccount
from omnistock.domain.errors import ConfigError, OmnistockError
from omnistock.engine_config import Catalog, EngineConfig
from omnistock.process import run as run_async
from omnistock.runner import build_adapters
from omnistock.security.vault import CredentialVault

app = typer.Typer(no_args_is_help=True, help="Channel accounts: their notifications.")

UrlOption = Annotated[
    str, typer.Option("--url", help="The engine's public URL (webhooks go to URL/webhooks/ID).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
AccountArgument = Annotated[str, typer.Argument(help="The account id, as in the configuration.")]


def notification_target(account: ChannelAccount, public_url: str) -> str:
    """Where the account's notifications go: the engine's webhook route for the account, or
    for Amazon (no HTTPS notifications) the SQS queue of its `notification_queue` setting,
    which the merchant's bridge forwards to that route. Raises ValueError if unset."""
    if account.platform == "amazon":
        queue = account.settings.get(NOTIFICATION_QUEUE)
        if not queue:
            raise ValueError(f"account {account.id}: set {NOTIFICATION_QUEUE} (an SQS queue ARN)")
        return queue
    return f"{public_url.rstrip('/')}/webhooks/{account.id}"


async def change_notifications(
    config: EngineConfig,
    account_id: str,
    public_url: str,
    *,
    connect: bool,
    environ: Mapping[str, str],
    vault: CredentialVault | None,
) -> tuple[str, SubscriptionReport]:
    """Register (or remove) the account's notifications; the target and what changed.
    Raises OmnistockError (ConfigError, ChannelError) and ValueError for a bad account."""
    catalog = Catalog(config)
    account = next((a for a in catalog.accounts if a.id == account_id), None)
    if account is None:
        raise ValueError(f"no account {account_id!r} in the configuration")
    target = notification_target(account, public_url)
    adapters = build_adapters(catalog, vault, environ, SystemTimer(), only={account.id})
    adapter = adapters[account.id]
    try:
        if not isinstance(adapter, RegistersNotifications):
            raise ValueError(f"{account.platform} adapters cannot register notifications")
        if connect:
            return target, await adapter.register_notifications(target)
        return target, await adapter.remove_notifications(target)
    finally:
        await adapter.aclose()


def report_json(account: str, target: str, report: SubscriptionReport) -> str:
    return json.dumps(
        {
            "account": account,
            "target": target,
            "created": [asdict(s) for s in report.created],
            "kept": [asdict(s) for s in report.kept],
            "removed": [asdict(s) for s in report.removed],
        }
    )


def report_table(account: str, target: str, report: SubscriptionReport) -> Table:
    table = Table(title=f"{account} → {target}")
    for column in ("", "topic", "delivers to", "id"):
        table.add_column(column)
    for action, subs in (
        ("created", report.created),
        ("kept", report.kept),
        ("removed", report.removed),
    ):
        for sub in subs:
            table.add_row(action, sub.topic, sub.target, sub.id)
    return table


def _command(config: Path | None, account: str, url: str, *, connect: bool, as_json: bool) -> None:
    try:
        loaded = config_file(config)
        if loaded is None:
            raise ConfigError("no configuration: give --config FILE or set OMNISTOCK_CONFIG")
        target, report = run_async(
            change_notifications(
                loaded, account, url, connect=connect, environ=os.environ, vault=credential_vault()
            )
        )
    except (OmnistockError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(report_json(account, target, report))
    else:
        console.print(report_table(account, target, report))


@app.command("connect")
def connect(
    account: AccountArgument,
    url: UrlOption,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe the account to the notifications omnistock reads (idempotent)."""
    _command(config, account, url, connect=True, as_json=as_json)


@app.command("disconnect")
def disconnect(
    account: AccountArgument,
    url: UrlOption,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove the account's subscriptions that deliver to the engine."""
    _command(config, account, url, connect=False, as_json=as_json)
