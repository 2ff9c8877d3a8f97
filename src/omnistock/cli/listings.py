"""`omnistock listings`: onboard what an account already sells. `discover` reads every
listing of its channel into the database (resumable); `link` matches them to the catalog's
SKUs and, with --apply, writes the links as listings."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Protocol

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from omnistock.adapters.base import DiscoversListings
from omnistock.cli.common import ConfigOption, DbOption, console, engine_config, fail, vault
from omnistock.clock import SystemClock, SystemTimer
from omnistock.domain.errors import OmnistockError
from omnistock.domain.ids import AccountId
from omnistock.domain.linking import LinkReport
from omnistock.engine_config import Catalog
from omnistock.ledger.discovery import DiscoveredRow
from omnistock.ledger.store import Store
from omnistock.onboarding.discovery import DiscoveryProgress, DiscoveryRunner
from omnistock.onboarding.links import apply_links, link_account
from omnistock.process import run as run_async
from omnistock.runner import apply_catalog, build_adapters

app = typer.Typer(no_args_is_help=True, help="Onboard the listings an account already has.")

SHOWN = 10  # rows of each bucket printed without --json


@contextmanager
def _failing_cleanly() -> Iterator[None]:
    try:
        yield
    except OmnistockError as exc:
        fail(str(exc))


@app.command()
def discover(
    account: Annotated[str, typer.Argument(help="The account, as the configuration names it.")],
    config: ConfigOption = None,
    restart: Annotated[bool, typer.Option(help="Start over instead of resuming.")] = False,
    db: DbOption = None,
) -> None:
    """Read every listing of ACCOUNT's channel into the database, resuming an interrupted
    discovery unless --restart."""
    with _failing_cleanly():
        loaded = engine_config(config, db=db)
        catalog = Catalog(loaded)
        progress = run_async(_discover(catalog, AccountId(account), loaded.database_url, restart))
    state = "resumed and finished" if progress.resumed else "finished"
    console.print(
        f"{escape(account)}: discovery {state}: {progress.listings} listings in "
        f"{progress.pages} pages"
    )


async def _discover(
    catalog: Catalog, account: AccountId, url: str, restart: bool
) -> DiscoveryProgress:
    adapter = _adapter(catalog, account)
    try:
        store = await Store.open(url, schema="require")
        try:
            runner = DiscoveryRunner(store=store, clock=SystemClock(), timer=SystemTimer())
            with _progress_bar() as bar:
                task = bar.add_task(f"discovering {account}", total=None)

                def report(progress: DiscoveryProgress) -> None:
                    bar.update(task, completed=progress.listings, total=progress.total)

                return await runner.run(account, adapter, restart=restart, report=report)
        finally:
            await store.close()
    finally:
        await adapter.aclose()


def _adapter(catalog: Catalog, account: AccountId) -> _Discovering:
    if account not in {a.id for a in catalog.accounts}:
        fail(f"no account {account!r} in the configuration")
    alone = copy.copy(catalog)
    alone.accounts = [a for a in catalog.accounts if a.id == account]
    # Credentials as `run` reads them: the environment first, then the vault if keyed.
    adapter = build_adapters(alone, vault(), os.environ, SystemTimer())[account]
    if not isinstance(adapter, DiscoversListings):
        fail(f"account {account!r}: its platform cannot discover listings yet")
    return adapter


class _Discovering(DiscoversListings, Protocol):
    """An adapter that discovers (and, as every adapter, closes)."""

    async def aclose(self) -> None: ...


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command()
def link(
    account: Annotated[str, typer.Argument(help="The account, as the configuration names it.")],
    config: ConfigOption = None,
    normalise: Annotated[
        bool, typer.Option(help="Also match SKUs that differ in case or whitespace.")
    ] = False,
    location: Annotated[
        str | None,
        typer.Option(help="Link only listings at this channel location (Shopify location id)."),
    ] = None,
    apply: Annotated[bool, typer.Option(help="Write the links as the catalog's listings.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print every row as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Match ACCOUNT's discovered listings to the catalog's SKUs and print the report."""
    with _failing_cleanly():
        loaded = engine_config(config, db=db)
        catalog = Catalog(loaded)
        if AccountId(account) not in {a.id for a in catalog.accounts}:
            fail(f"no account {account!r} in the configuration")
        run_async(
            _link(
                catalog,
                AccountId(account),
                loaded.database_url,
                normalise=normalise,
                location=location,
                apply=apply,
                as_json=as_json,
            )
        )


async def _link(
    catalog: Catalog,
    account: AccountId,
    url: str,
    *,
    normalise: bool,
    location: str | None,
    apply: bool,
    as_json: bool,
) -> None:
    store = await Store.open(url, schema="require")
    try:
        # The catalog's SKUs: the database's (a catalog file's) and the config's.
        skus = sorted(
            {item.sku for item in await store.catalog.items()} | {i.sku for i in catalog.items}
        )
        report, complete = await link_account(
            store, account, skus, normalise=normalise, location=location
        )
        applied = None
        if apply:
            if not complete:
                fail("the discovery is unfinished: resume it before --apply", code=1)
            await apply_catalog(store, catalog)
            applied = await apply_links(store, account, report)
        if as_json:
            found = _as_json(report, complete)
            if applied is not None:
                found["applied"] = {"written": len(applied.written), "kept": len(applied.kept)}
            typer.echo(json.dumps(found, indent=2))
            return
        _print(report, complete)
        if applied is not None:
            console.print(
                f"{len(applied.written)} listings written, {len(applied.kept)} already listed"
            )
    finally:
        await store.close()


def _row(x: DiscoveredRow) -> dict[str, object]:
    return {
        "key": x.key,
        "sku": x.sku,
        "external_ids": dict(x.external_ids),
        "managed": x.managed,
        "quantity": x.quantity,
        "title": x.title,
        "location": x.location,
    }


def _as_json(report: LinkReport[DiscoveredRow], complete: bool) -> dict[str, object]:
    return {
        "complete": complete,
        "counts": report.counts(),
        "linked": [{"catalog_sku": link.sku, **_row(link.listing)} for link in report.linked],
        "unmatched": [_row(x) for x in report.unmatched],
        "duplicates": [_row(x) for x in report.duplicates],
        "unmanaged": [_row(x) for x in report.unmanaged],
        "elsewhere": [_row(x) for x in report.elsewhere],
        "missing": list(report.missing),
    }


def _print(report: LinkReport[DiscoveredRow], complete: bool) -> None:
    if not complete:
        console.print("[yellow]the discovery is unfinished: this report covers part of it[/]")
    counts = ", ".join(f"{n} {name}" for name, n in report.counts().items())
    console.print(counts)
    buckets: dict[str, list[str]] = {
        "linked": [f"{link.sku} <- {_line(link.listing)}" for link in report.linked],
        "unmatched": [_line(x) for x in report.unmatched],
        "duplicates": [_line(x) for x in report.duplicates],
        "unmanaged": [_line(x) for x in report.unmanaged],
        "elsewhere": [_line(x) for x in report.elsewhere],
        "missing": list(report.missing),
    }
    for name, lines in buckets.items():
        if not lines:
            continue
        console.print(f"[bold]{name}[/]")
        for line in lines[:SHOWN]:
            console.print(f"  {escape(line)}")
        if len(lines) > SHOWN:
            console.print(f"  … and {len(lines) - SHOWN} more (--json lists all)")


def _line(x: DiscoveredRow) -> str:
    where = f" @{x.location}" if x.location else ""
    return f"{x.key}{where} sku={x.sku or '-'} {x.title!r}"
