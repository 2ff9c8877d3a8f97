"""`omnistock sync`: see what a first push would change before anything is written, and
approve it.

`sync plan` reads the database, the config's catalog and what each channel shows, and
writes nothing; `sync apply` makes an account's first push now (an operator's approval,
also past the config's first_sync_guard); `run --dry-run` prints the same plan."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from omnistock.cli.common import ConfigOption, DbOption, console, engine_config, fail, vault
from omnistock.dispatch.plan import Progress as PlanProgress
from omnistock.domain.errors import OmnistockError
from omnistock.domain.ids import AccountId
from omnistock.domain.sync_plan import Change, PlannedWrite
from omnistock.process import run as run_async
from omnistock.runner import Plans, apply_first_sync, plan_sync

app = typer.Typer(no_args_is_help=True, help="A first push: its plan, and its approval.")
LARGEST = 10  # changes shown per account


@app.command("plan")
def sync_plan(
    accounts: Annotated[
        list[str] | None, typer.Argument(help="Accounts (default: every one in the config).")
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Every listing's write, as JSON.")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Every listing's write, as CSV.")] = False,
) -> None:
    """Per listing: what the channel shows now → what omnistock would write; counts of
    increases, decreases, to-zero, held (no stock known) and the largest changes. Reads
    the channels; writes nothing to them or to the database."""
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    try:
        chosen = engine_config(config, db=db)
        if as_json or as_csv:
            plans = run_async(
                plan_sync(chosen, vault=vault(), environ=os.environ, accounts=accounts or ())
            )
        else:
            with Progress(console=console, transient=True) as bar:

                def progress(account: AccountId) -> PlanProgress:
                    task = bar.add_task(f"reading {escape(account)}", total=None)

                    def advance(done: int, total: int) -> None:
                        bar.update(task, completed=done, total=total)

                    return advance

                plans = run_async(
                    plan_sync(
                        chosen,
                        vault=vault(),
                        environ=os.environ,
                        accounts=accounts or (),
                        progress=progress,
                    )
                )
    except OmnistockError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(plans_json(plans), sort_keys=True))
    elif as_csv:
        typer.echo(plans_csv(plans), nl=False)
    else:
        show_plans(plans)


@app.command("apply")
def sync_apply(
    account: Annotated[str, typer.Argument(help="The account whose first push to make.")],
    config: ConfigOption = None,
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask: the plan is approved.")] = False,
) -> None:
    """Show the account's plan, then (confirmed, or with --yes) make its first push now."""
    try:
        chosen = engine_config(config, db=db)
        credentials = vault()
        plans = run_async(
            plan_sync(chosen, vault=credentials, environ=os.environ, accounts=[account])
        )
        show_plans(plans)
        if plans.empty_ledger:
            fail("the database does not exist yet: create it with `omnistock db migrate`")
        if not yes and not typer.confirm(f"push these to {account}?"):
            raise typer.Exit(1)
        report = run_async(
            apply_first_sync(chosen, vault=credentials, environ=os.environ, account=account)
        )
    except OmnistockError as exc:
        fail(str(exc))
    done = report.report
    console.print(
        f"{account}: {done.pushed} pushed in {done.calls} calls, {done.succeeded} written, "
        f"{done.failed} to retry (the engine keeps them dirty until they are)"
    )
    if done.circuit_open:
        fail(f"{account} is failing (circuit open): the rest waits for `omnistock run`", 1)


def show_plans(plans: Plans) -> None:
    """The plans as the console shows them: counts per account, then the largest changes."""
    if plans.empty_ledger:
        console.print(
            "[yellow]the database does not exist yet:[/] planned against an empty ledger "
            "(no stock known: nothing would be written)"
        )
    table = Table(title="first push: what would change")
    table.add_column("account")
    for change in Change:
        table.add_column(change.value.replace("_", " "), justify="right")
    table.add_column("listings", justify="right")
    for account, plan in plans.plans.items():
        counts = plan.counts()
        table.add_row(account, *(str(counts[c]) for c in Change), str(len(plan.writes)))
    console.print(table)
    for account, plan in plans.plans.items():
        largest = plan.largest(LARGEST)
        if not largest:
            continue
        changes = Table(title=f"{account}: largest changes")
        for column in ("listing", "sku", "now", "would write", "change"):
            changes.add_column(column)
        for w in largest:
            changes.add_row(w.listing, w.sku, _text(w.shown), _text(w.desired), f"{w.delta:+d}")
        console.print(changes)


def plans_json(plans: Plans) -> dict[str, object]:
    return {
        "empty_ledger": plans.empty_ledger,
        "accounts": {
            account: {
                "counts": {c.value: n for c, n in plan.counts().items()},
                "writes": [_row(w) for w in plan.writes],
            }
            for account, plan in plans.plans.items()
        },
    }


def plans_csv(plans: Plans) -> str:
    out = io.StringIO()
    fields = ("account", "listing", "sku", "shown", "desired", "change", "delta")
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for account, plan in plans.plans.items():
        for w in plan.writes:
            writer.writerow({"account": account, **_row(w)})
    return out.getvalue()


def _row(w: PlannedWrite) -> dict[str, object]:
    return {
        "listing": w.listing,
        "sku": w.sku,
        "shown": w.shown,
        "desired": w.desired,
        "change": w.change.value,
        "delta": w.delta,
    }


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)
