"""The `omnistock` command: the only composition root.

Builds Settings once, opens what each command needs, and hands it down explicitly. The
commands served by the test kit (`demo`, `bench`, `sandbox`) import it inside their bodies,
so that the product's commands (`run`, `import`, …) never load an emulator."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.clock import SystemClock
from omnistock.config import Settings
from omnistock.domain.errors import OmnistockError
from omnistock.engine_config import EngineConfig, load_config
from omnistock.ingest.import_runner import ImportSummary, run_import
from omnistock.ingest.imports import ImportFormat, ImportMode
from omnistock.ledger.store import Store
from omnistock.process import configure as configure_process
from omnistock.process import run as run_async
from omnistock.runner import dry_run as preview_first_sync
from omnistock.runner import run_engine
from omnistock.security.tokens import Scope, new_token
from omnistock.security.vault import CredentialVault, new_master_key

T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True, help="Keep the stock every channel shows equal to the truth."
)
ledger_app = typer.Typer(no_args_is_help=True, help="Inspect and check the ledger.")
app.add_typer(ledger_app, name="ledger")
credentials_app = typer.Typer(
    no_args_is_help=True, help="Channel credentials, encrypted with OMNISTOCK_MASTER_KEY."
)
app.add_typer(credentials_app, name="credentials")
token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens of the HTTP API.")
app.add_typer(token_app, name="token")
console = Console()


@app.callback()
def _process() -> None:
    configure_process()


def _need_kit() -> None:
    """The kit's commands need its extra; say so rather than fail on an import."""
    if importlib.util.find_spec("graphql") is None:
        hint = escape("pip install 'omnistock[kit]'")
        console.print(f"[red]error:[/] this command needs the test kit: {hint}")
        raise typer.Exit(2)


@app.command()
def demo(
    duration: Annotated[float, typer.Option(min=1, help="Seconds of trading.")] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of the catalog, stock and shoppers.")] = 7,
    channels: Annotated[
        str,
        typer.Option(
            help="Comma-separated platforms, a store each (repeat one for several stores).",
        ),
    ] = ",".join(PLATFORMS),
    skus: Annotated[int, typer.Option(min=1, max=2_000, help="SKUs in the catalog.")] = 40,
    rate: Annotated[float, typer.Option(min=0, help="Orders per second, per store.")] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The engine against platform sandboxes that sell one catalog: shoppers, restocks,
    live progress, then a summary once every channel has converged."""
    _need_kit()
    from omnistock.kit.demo.run import DemoOptions, run_demo
    from omnistock.kit.demo.view import LiveView, show_summary

    platforms = tuple(p.strip() for p in channels.split(",") if p.strip())
    unknown = sorted(set(platforms) - set(PLATFORMS))
    if unknown or len(platforms) < 2:
        raise typer.BadParameter(
            f"name at least two stores from {', '.join(PLATFORMS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            param_hint="--channels",
        )
    options = DemoOptions(
        duration_s=duration, seed=seed, platforms=platforms, skus=skus, shopper_rate=rate
    )
    with tempfile.TemporaryDirectory(prefix="omnistock-demo-") as tmp:
        if as_json:
            summary = run_async(run_demo(options, Path(tmp)))
            typer.echo(json.dumps(summary.to_json(), sort_keys=True))
            return
        with LiveView(console) as view:
            summary = run_async(run_demo(options, Path(tmp), view.update))
    show_summary(console, summary)
    if not summary.converged:
        raise typer.Exit(1)


async def _with_store(url: str, use: Callable[[Store], Awaitable[T]]) -> T:
    store = await Store.open(url)
    try:
        return await use(store)
    finally:
        await store.close()


@ledger_app.command("verify")
def ledger_verify(
    db: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Rebuild balances and desired quantities from the event log and compare them."""
    url = db or Settings().database_url
    try:
        report = run_async(_with_store(url, lambda store: store.verify()))
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


@app.command()
def bench(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(
            help="Scenarios: ingest latency efficiency oversell scale ledger push "
            "(default: the first five)."
        ),
    ] = None,
    quick: Annotated[bool, typer.Option(help="A reduced size, for smoke checks.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    repeat: Annotated[int, typer.Option(min=1, help="Repetitions; medians are reported.")] = 3,
    postgres: Annotated[
        str | None,
        typer.Option(envvar="OMNISTOCK_BENCH_PG_DSN", help="PostgreSQL DSN to include."),
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, max=10_000, help="ledger: events per append.")
    ] = 1_000,
) -> None:
    """Measure omnistock next to its baselines, in the same run: one table per scenario,
    or with --json one object with a key per scenario (and `machine`: this machine's speed
    at the time, on fixed work)."""
    _need_kit()
    from omnistock.kit.bench import machine
    from omnistock.kit.bench.scenarios import DEFAULT as DEFAULT_SCENARIOS
    from omnistock.kit.bench.scenarios import SCENARIOS, BenchOptions

    chosen = scenarios or list(DEFAULT_SCENARIOS)
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        raise typer.BadParameter(
            f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}"
        )
    options = BenchOptions(quick=quick, repeat=repeat, postgres=postgres, batch=batch)
    # The machine's own speed first: the targets are absolute, and machines differ by day.
    results: dict[str, dict[str, object]] = {"machine": machine.run()}
    if not as_json:
        _show_bench("machine", results["machine"])
    for name in dict.fromkeys(chosen):
        results[name] = run_async(SCENARIOS[name](options))
        if not as_json:
            _show_bench(name, results[name])
    if as_json:
        typer.echo(json.dumps(results, sort_keys=True))


def _show_bench(name: str, result: dict[str, object]) -> None:
    from omnistock.kit.bench.report import rows as bench_rows

    table = Table(title=f"omnistock bench {name}: median (min..max)")
    for column in ("figure", "value"):
        table.add_column(column)
    for path, value in bench_rows(result):
        style = "red" if value == "False" and path.startswith("target_met") else None
        table.add_row(path, value, style=style)
    console.print(table)


@app.command()
def sandbox(
    platform: Annotated[str, typer.Argument(help="The platform to emulate.")],
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the catalog and shoppers.")] = 1,
    skus: Annotated[int, typer.Option(min=1, help="Number of SKUs in the catalog.")] = 20,
    time_scale: Annotated[
        float, typer.Option(min=0.001, help="Platform seconds per real second.")
    ] = 1.0,
) -> None:
    """Serve one platform sandbox; prints one JSON line with its URLs and credentials."""
    _need_kit()
    from omnistock.kit.sandbox.registry import SANDBOXES, serve

    if platform not in SANDBOXES:
        raise typer.BadParameter(f"unknown platform {platform!r}; choose from {sorted(SANDBOXES)}")
    with contextlib.suppress(KeyboardInterrupt):
        run_async(serve(platform, port=port, seed=seed, skus=skus, time_scale=time_scale))


def _vault() -> CredentialVault:
    settings = Settings()
    if settings.master_key is None:
        console.print("[red]error:[/] set OMNISTOCK_MASTER_KEY (`omnistock credentials key`)")
        raise typer.Exit(2)
    return CredentialVault(
        settings.credentials_path, Secret(settings.master_key.get_secret_value())
    )


@credentials_app.command("key")
def credentials_key() -> None:
    """Print a new master key for OMNISTOCK_MASTER_KEY (keep it out of the repository)."""
    typer.echo(new_master_key().reveal())


@credentials_app.command("set")
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


@credentials_app.command("list")
def credentials_list() -> None:
    """The accounts and the names of their secrets (never the values)."""
    try:
        names = _vault().names()
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    for account, keys in names.items():
        console.print(f"{account}: {', '.join(keys)}")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses the token.")],
    scope: Annotated[Scope, typer.Option(help="read < write < admin.")] = Scope.READ,
    db: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Issue a token; it is printed once and stored only as a hash."""
    token, stored = new_token()
    now = SystemClock().now()
    url = db or Settings().database_url
    try:
        run_async(_with_store(url, lambda s: s.tokens.create(name, scope.value, stored, now)))
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    typer.echo(token.reveal())


@token_app.command("list")
def token_list(
    db: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Every token's name, scope and state (never the token)."""
    tokens = run_async(_with_store(db or Settings().database_url, lambda s: s.tokens.all()))
    for token in tokens:
        state = "revoked" if token.revoked else "active"
        typer.echo(f"{token.name}\t{token.scope}\t{state}\t{token.created_at:%Y-%m-%d}")


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    db: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Revoke a token at once."""
    done = run_async(_with_store(db or Settings().database_url, lambda s: s.tokens.revoke(name)))
    if not done:
        console.print(f"[red]error:[/] no active token named {name!r}")
        raise typer.Exit(1)
    console.print(f"revoked {name}")


_IMPORT_FORMATS = {
    ".csv": ImportFormat.CSV,
    ".jsonl": ImportFormat.JSONL,
    ".ndjson": ImportFormat.JSONL,
}
MAX_SHOWN_ROW_PROBLEMS = 20


@app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or JSONL file."),
    ],
    db: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
    fmt: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="csv or jsonl (default: from the file's extension)."),
    ] = None,
    mode: Annotated[
        ImportMode, typer.Option(help="How rows without a `mode` are read: counts or deltas.")
    ] = ImportMode.ABSOLUTE,
) -> None:
    """Import an ERP/WMS stock file (sku, location, quantity; optional mode, reason,
    occurred_at). Each row applies once, even if the file is imported again.

    Exit code 0: every row applied, now or before; 1: some rows were refused (listed with
    their line numbers); 2: the file could not be imported at all."""
    chosen = fmt or _IMPORT_FORMATS.get(file.suffix.lower())
    if chosen is None:
        console.print(f"[red]error:[/] give --format csv or jsonl for {escape(file.name)!r}")
        raise typer.Exit(2)
    data = file.read_bytes()
    url = db or Settings().database_url
    try:
        with Progress(console=console) as bar:
            task = bar.add_task(f"importing {escape(file.name)}", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = run_async(
                _with_store(
                    url,
                    lambda store: run_import(
                        store,
                        file.name,
                        data,
                        fmt=chosen,
                        default_mode=mode,
                        clock=SystemClock(),
                        progress=advance,
                    ),
                )
            )
    except OmnistockError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    _show_import(summary)
    if not summary.complete:
        raise typer.Exit(1)


def _show_import(summary: ImportSummary) -> None:
    table = Table(title=f"Import {escape(summary.source)} (file id {summary.file_id})")
    for column in ("rows", "applied", "duplicates", "rejected", "errors", "seconds", "rows/s"):
        table.add_column(column, justify="right")
    rate = summary.rows / summary.seconds if summary.seconds > 0 else 0.0
    counts = (summary.rows, summary.applied, summary.duplicates)
    refused = (len(summary.rejected), len(summary.errors))
    table.add_row(*map(str, counts + refused), f"{summary.seconds:.2f}", f"{rate:,.0f}")
    console.print(table)
    problems = sorted(
        [(r.line, f"refused ({r.code}): {r.reason}") for r in summary.rejected]
        + [(e.line, e.reason) for e in summary.errors]
    )
    for line, reason in problems[:MAX_SHOWN_ROW_PROBLEMS]:
        console.print(f"  [red]line {line}:[/] {escape(reason)}")
    if len(problems) > MAX_SHOWN_ROW_PROBLEMS:
        console.print(f"  … and {len(problems) - MAX_SHOWN_ROW_PROBLEMS} more rows refused")


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
