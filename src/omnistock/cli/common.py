"""What every command shares: the console, one way to fail, and one way to reach the
database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from omnistock.ledger.store import Store

T = TypeVar("T")

MAX_SHOWN_ROW_PROBLEMS = 20

console = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on the console, `error: ...`, and the exit status."""
    console.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def show_row_problems(problems: Sequence[tuple[int, str]]) -> None:
    """The first rows refused, by line (the imports list them in line order)."""
    for line, reason in problems[:MAX_SHOWN_ROW_PROBLEMS]:
        console.print(f"  [red]line {line}:[/] {escape(reason)}")
    if len(problems) > MAX_SHOWN_ROW_PROBLEMS:
        console.print(f"  … and {len(problems) - MAX_SHOWN_ROW_PROBLEMS} more rows refused")


async def with_store(url: str, use: Callable[[Store], Awaitable[T]]) -> T:
    store = await Store.open(url)
    try:
        return await use(store)
    finally:
        await store.close()
