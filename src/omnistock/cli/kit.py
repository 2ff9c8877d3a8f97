"""The commands the test kit serves (`demo`, `bench`, `sandbox`): each imports the kit in
its body, so that the product's commands never load an emulator."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from omnistock.adapters.registry import PLATFORMS
from omnistock.cli.common import console
from omnistock.process import run as run_async

app = typer.Typer()


def need_kit() -> None:
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
    need_kit()
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


@app.command()
def bench(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(
            help="Scenarios: ingest latency efficiency oversell scale ledger push onboarding "
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
    need_kit()
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
    toml: Annotated[
        bool, typer.Option("--toml", help="Also print an `omnistock run` configuration for it.")
    ] = False,
) -> None:
    """Serve one platform sandbox; prints one JSON line with what a configuration needs
    (API root, credentials and their variables, settings, listings, admin URL)."""
    need_kit()
    from omnistock.kit.sandbox.registry import SANDBOXES, serve
    from omnistock.kit.sandbox_setup import announcement

    if platform not in SANDBOXES:
        raise typer.BadParameter(f"unknown platform {platform!r}; choose from {sorted(SANDBOXES)}")
    serving = serve(
        platform,
        port=port,
        seed=seed,
        skus=skus,
        time_scale=time_scale,
        announce=announcement(with_toml=toml),
    )
    with contextlib.suppress(KeyboardInterrupt):
        run_async(serving)
