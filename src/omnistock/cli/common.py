"""What every command shares: the console, one way to fail, and one way to find each
setting and reach the database.

Every setting a command takes is found the same way, first match wins: its flag, then
its OMNISTOCK_* environment variable, then the config file (`--config`, else
OMNISTOCK_CONFIG), then the default. Commands that read or edit a database refuse one
that does not exist or lacks the current schema (`omnistock db migrate` creates it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from omnistock.adapters.secrets import Secret
from omnistock.config import DEFAULT_DATABASE_URL, Settings
from omnistock.domain.errors import ConfigError, OmnistockError
from omnistock.engine_config import Catalog, EngineConfig, load_config
from omnistock.ingest.imports import ImportFormat
from omnistock.ledger.database import DatabaseUnavailableError
from omnistock.ledger.migrations import SchemaNotReadyError
from omnistock.ledger.store import OnOpen, Store
from omnistock.process import run as run_async
from omnistock.runner import apply_declared
from omnistock.security.vault import CredentialVault

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


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL. First of: --db, OMNISTOCK_DATABASE_URL, the config file's "
        f"database_url, {DEFAULT_DATABASE_URL}.",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", dir_okay=False, help="The engine's TOML configuration (else OMNISTOCK_CONFIG)."
    ),
]


ImportFile = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or JSONL file."),
]
FormatOption = Annotated[
    ImportFormat | None,
    typer.Option("--format", help="csv or jsonl (default: from the file's extension)."),
]


@dataclass(frozen=True, slots=True)
class Choice:
    """A setting's value and where it came from (said when it matters, e.g. in errors)."""

    value: str
    source: str


def config_file(flag: Path | None, settings: Settings | None = None) -> EngineConfig | None:
    """The configuration named by `--config`, else OMNISTOCK_CONFIG; None if neither."""
    path = flag or (settings or Settings()).config
    return None if path is None else load_config(path)


def database(flag: str | None, config: EngineConfig | Path | None) -> Choice:
    """The database URL, by the one precedence (see the module's docstring)."""
    settings = Settings()
    if flag:
        return Choice(flag, "--db")
    if "database_url" in settings.model_fields_set:
        return Choice(settings.database_url, "OMNISTOCK_DATABASE_URL")
    loaded = config if isinstance(config, EngineConfig) else config_file(config, settings)
    if loaded is not None and "database_url" in loaded.model_fields_set:
        return Choice(loaded.database_url, "the config file")
    return Choice(DEFAULT_DATABASE_URL, "the default")


async def with_store(
    url: str,
    use: Callable[[Store], Awaitable[T]],
    *,
    schema: OnOpen = "require",
    declared: EngineConfig | None = None,
) -> T:
    """`use` the store at `url`; by default only an existing, current one (see Store.open).
    With `declared`, the config's locations and accounts are written first (as `run` does
    at start), so that what the config names is known to what `use` writes."""
    store = await Store.open(url, schema=schema)
    try:
        if declared is not None:
            await apply_declared(store, Catalog(declared))
        return await use(store)
    finally:
        await store.close()


def on_store(
    db: str | None,
    config: EngineConfig | Path | None,
    use: Callable[[Store], Awaitable[T]],
    *,
    schema: OnOpen = "require",
) -> T:
    """`use` the database the settings name; an unreadable config, a missing database or
    one without the current schema ends the command with one line and exit status 2."""
    try:
        chosen = database(db, config)
        return run_async(with_store(chosen.value, use, schema=schema))
    except (SchemaNotReadyError, DatabaseUnavailableError) as exc:
        fail(f"{exc} [the database from {chosen.source}]")
    except OmnistockError as exc:
        fail(str(exc))


ListenOption = Annotated[
    str | None,
    typer.Option(
        "--listen",
        help="host:port for webhooks and the API. First of: --listen, OMNISTOCK_LISTEN, "
        "the config file's listen, 127.0.0.1:8700.",
    ),
]


def engine_config(
    config: Path | None, *, db: str | None = None, listen: str | None = None
) -> EngineConfig:
    """The engine's configuration (`--config`, else OMNISTOCK_CONFIG) with the database
    and the listen address chosen by the one precedence. ConfigError when there is none."""
    settings = Settings()
    loaded = config_file(config, settings)
    if loaded is None:
        raise ConfigError("no configuration: give --config FILE or set OMNISTOCK_CONFIG")
    update: dict[str, object] = {"database_url": database(db, loaded).value}
    chosen_listen = listen or settings.listen
    if chosen_listen:
        update["listen"] = chosen_listen
    if "reservation_policy" in settings.model_fields_set:  # OMNISTOCK_RESERVATION_POLICY
        update["reservation_policy"] = settings.reservation_policy
    return loaded.model_copy(update=update)


def vault() -> CredentialVault | None:
    """The encrypted credentials, when OMNISTOCK_MASTER_KEY is set (else the environment
    alone supplies them)."""
    settings = Settings()
    if settings.master_key is None:
        return None
    key = Secret(settings.master_key.get_secret_value())
    return CredentialVault(settings.credentials_path, key)
