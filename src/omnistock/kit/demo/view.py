"""What `omnistock demo` shows in the terminal: a live table while the shops trade, then
the summary. Rich renders; nothing here measures anything."""

from __future__ import annotations

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from omnistock.kit.demo.run import DemoSummary, Snapshot


class LiveView:
    def __init__(self, console: Console) -> None:
        self._live = Live(Table(), console=console, refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def update(self, snapshot: Snapshot) -> None:
        self._live.update(_progress(snapshot))


def _progress(s: Snapshot) -> Group:
    table = Table(title=f"omnistock demo — {s.elapsed_s:.0f} s")
    for column in ("events applied", "backlog", "oversold units", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    p = s.propagation_ms
    table.add_row(
        str(s.events_applied),
        str(s.backlog),
        str(s.oversold_units),
        _ms(p.get("p50")),
        _ms(p.get("p95")),
        _ms(p.get("p99")),
    )
    calls = Table(title="API calls per channel")
    for account in s.api_calls:
        calls.add_column(account, justify="right")
    calls.add_row(*(str(n) for n in s.api_calls.values()))
    return Group(table, calls)


def show_summary(console: Console, summary: DemoSummary) -> None:
    table = Table(title="omnistock demo — summary")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in summary.to_json().items():
        if isinstance(value, dict):
            for key, item in value.items():
                table.add_row(f"{name}.{key}", str(item))
        else:
            table.add_row(name, str(value))
    console.print(table)
    verdict = "[green]converged[/]" if summary.converged else "[red]NOT converged[/]"
    console.print(f"Every channel {verdict} to the ledger's desired quantities.")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
