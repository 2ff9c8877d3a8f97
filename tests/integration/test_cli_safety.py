"""Nothing destructive by surprise: the database every command uses is found one way
(flag > environment > config file > default), commands that read a database refuse one
that is missing or behind, the schema changes only by `db migrate` (or `run`), and a
first push can be seen (`sync plan`, `run --dry-run`: nothing written anywhere), guarded
and approved (`sync apply`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnistock.cli import app
from omnistock.cli.common import engine_config
from omnistock.domain.errors import ConfigError
from omnistock.domain.events import LedgerEvent, StockCounted, StockReceived
from omnistock.domain.ids import LocationId, Sku
from omnistock.engine_config import Catalog, load_config
from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox
from omnistock.ledger.store import Store
from omnistock.runner import FirstPushRefusedError, apply_catalog, run_engine
from omnistock.security.vault import env_name
from tests.serving import served

AT = datetime(2026, 12, 1, tzinfo=UTC)

runner = CliRunner()


def _snapshot(db: Path) -> str:
    """A digest of every row of every table: any write shows."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [
            (t, conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall())  # noqa: S608
            for t in sorted(tables)
        ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


# --- the database: one precedence, never created by surprise --------------------------------


def test_commands_refuse_a_database_that_does_not_exist_and_create_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMNISTOCK_DATABASE_URL", raising=False)
    for command in (["ledger", "verify"], ["token", "list"], ["db", "status"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, (command, result.output)
        assert "no database at omnistock.db" in result.output
        assert "[the database from the default]" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []


def test_a_database_without_the_current_schema_is_refused_until_migrated(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    sqlite3.connect(db).execute("CREATE TABLE unrelated (x)").connection.close()
    url = f"sqlite:///{db}"
    refused = runner.invoke(app, ["ledger", "verify", "--db", url])
    assert refused.exit_code == 2
    assert "has no omnistock schema" in refused.output
    status = runner.invoke(app, ["db", "status", "--db", url, "--json"])
    assert status.exit_code == 1
    assert json.loads(status.output)["has_schema"] is False
    migrated = runner.invoke(app, ["db", "migrate", "--db", url])
    assert migrated.exit_code == 0, migrated.output
    assert "applied 0001_initial.sql" in migrated.output
    status = runner.invoke(app, ["db", "status", "--db", url, "--json"])
    assert status.exit_code == 0, status.output
    found = json.loads(status.output)
    assert found["pending"] == []
    assert all(a["matches"] and a["checksum"] for a in found["applied"])
    again = runner.invoke(app, ["db", "migrate", "--db", url])
    assert "no migration(s) applied" in again.output
    assert runner.invoke(app, ["ledger", "verify", "--db", url]).exit_code == 0


def test_db_status_shows_pending_and_changed_migrations(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    url = f"sqlite:///{db}"
    assert runner.invoke(app, ["db", "migrate", "--db", url]).exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 12")
        conn.execute("UPDATE schema_migrations SET checksum = 'abc' WHERE version = 2")
    status = runner.invoke(app, ["db", "status", "--db", url, "--json"])
    assert status.exit_code == 1
    found = json.loads(status.output)
    assert [m["name"] for m in found["pending"]] == ["0012_stock_unknown.sql"]
    assert [a["name"] for a in found["applied"] if not a["matches"]] == ["0002_inbox.sql"]
    refused = runner.invoke(app, ["token", "list", "--db", url])
    assert refused.exit_code == 2
    assert "1 pending migration(s) (0012_stock_unknown.sql)" in refused.output


@pytest.fixture
def three_databases(tmp_path: Path) -> dict[str, Path]:
    places = {name: tmp_path / f"{name}.db" for name in ("flag", "env", "file")}
    for path in places.values():
        assert runner.invoke(app, ["db", "migrate", "--db", f"sqlite:///{path}"]).exit_code == 0
    config = tmp_path / "omnistock.toml"
    config.write_text(f'database_url = "sqlite:///{places["file"]}"\n[[locations]]\nid = "main"\n')
    places["config"] = config
    return places


def test_the_database_is_the_flag_then_the_environment_then_the_config_file(
    three_databases: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    places = three_databases
    config = str(places["config"])

    def token_in(name: str) -> bool:
        conn = sqlite3.connect(places[name])
        try:
            return bool(conn.execute("SELECT count(*) FROM api_tokens").fetchone()[0])
        finally:
            conn.close()

    monkeypatch.delenv("OMNISTOCK_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["token", "create", "--name", "a", "--config", config]).exit_code == 0
    assert (token_in("file"), token_in("env"), token_in("flag")) == (True, False, False)
    monkeypatch.setenv("OMNISTOCK_DATABASE_URL", f"sqlite:///{places['env']}")
    assert runner.invoke(app, ["token", "create", "--name", "b", "--config", config]).exit_code == 0
    assert (token_in("env"), token_in("flag")) == (True, False)
    flag = f"sqlite:///{places['flag']}"
    created = runner.invoke(
        app, ["token", "create", "--name", "c", "--config", config, "--db", flag]
    )
    assert created.exit_code == 0
    assert token_in("flag")
    monkeypatch.setenv("OMNISTOCK_CONFIG", config)  # the config file from the environment
    monkeypatch.delenv("OMNISTOCK_DATABASE_URL")
    listed = runner.invoke(app, ["token", "list"])
    assert listed.output.startswith("a\t"), listed.output


# --- the first push: planned, guarded, approved ---------------------------------------------


async def _shop(tmp_path: Path, sandbox: WooSandbox, url: str, *, guard: str = "") -> Path:
    """A config with one WooCommerce account listing every product of `sandbox`."""
    products = sorted(sandbox.store.sellable(), key=lambda p: p.sku)
    lines = [
        f'database_url = "sqlite:///{tmp_path / "engine.db"}"',
        guard,
        '[[locations]]\nid = "main"',
        *(f'[[items]]\nsku = "{p.sku}"' for p in products),
        '[[accounts]]\nid = "woo"\nplatform = "woocommerce"',
        f'base_url = "{url}/wp-json/wc/v3/"\nlocation = "main"',
        *(
            f'[[listings]]\naccount = "woo"\nsku = "{p.sku}"\n'
            f'external_ids = {{ product_id = "{p.id}" }}'
            for p in products
        ),
    ]
    config = tmp_path / "omnistock.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


@pytest.fixture
def woo_env(monkeypatch: pytest.MonkeyPatch) -> WooSandbox:
    sandbox = WooSandbox(WooConfig(seed=11, skus=4, variant_share=0.0))
    for name, value in sandbox.connection().credentials.items():
        monkeypatch.setenv(env_name("woo", name), value)
    monkeypatch.delenv("OMNISTOCK_DATABASE_URL", raising=False)
    return sandbox


async def _prepare(config: Path, events: Sequence[LedgerEvent]) -> Path:
    """As an operator would before a first run: the schema, the config's catalog, stock."""
    migrated = await asyncio.to_thread(
        runner.invoke, app, ["db", "migrate", "--config", str(config)]
    )
    assert migrated.exit_code == 0, migrated.output
    loaded = load_config(config)
    store = await Store.open(loaded.database_url, schema="require")
    try:
        await apply_catalog(store, Catalog(loaded))
        await store.ledger.append(events)
    finally:
        await store.close()
    return Path(loaded.database_url.removeprefix("sqlite:///"))


def _stock(kind: type[StockReceived | StockCounted], sku: str, quantity: int) -> LedgerEvent:
    return kind(
        idempotency_key=f"{kind.type}:{sku}",
        sku=Sku(sku),
        location=LocationId("main"),
        quantity=quantity,
        source="test",
        occurred_at=AT,
    )


async def test_dry_run_on_a_fresh_install_writes_nothing_and_says_the_ledger_is_empty(
    tmp_path: Path, woo_env: WooSandbox
) -> None:
    sandbox = woo_env
    async with sandbox.running(), served(sandbox.app) as url:
        config = await _shop(tmp_path, sandbox, url)
        before = sandbox.shown()
        result = await asyncio.to_thread(
            runner.invoke, app, ["run", "--config", str(config), "--dry-run"]
        )
        assert result.exit_code == 0, result.output
        assert "does not exist yet" in result.output
        assert "held" in result.output
        assert sandbox.shown() == before
        assert not any(sandbox.is_write(c) for c in sandbox.core.calls.records())
    assert not (tmp_path / "engine.db").exists()


async def test_sync_plan_reads_the_channel_and_writes_nothing(
    tmp_path: Path, woo_env: WooSandbox
) -> None:
    sandbox = woo_env
    async with sandbox.running(), served(sandbox.app) as url:
        config = await _shop(tmp_path, sandbox, url)
        shown = sandbox.shown()
        skus = sorted(shown)
        # Stock of two SKUs is known: one more than shown, and one fewer.
        events = [
            _stock(StockReceived, skus[0], shown[skus[0]] + 3),
            _stock(StockReceived, skus[1], shown[skus[1]] - 1),
        ]
        db = await _prepare(config, events)
        digest = _snapshot(db)
        result = await asyncio.to_thread(
            runner.invoke, app, ["sync", "plan", "woo", "--config", str(config), "--json"]
        )
        assert result.exit_code == 0, result.output
        plan = json.loads(result.output)["accounts"]["woo"]
        by_sku = {w["sku"]: w for w in plan["writes"]}
        assert by_sku[skus[0]]["change"] == "increase"
        assert by_sku[skus[0]]["delta"] == 3
        assert (by_sku[skus[1]]["change"], by_sku[skus[1]]["delta"]) == ("decrease", -1)
        assert {by_sku[s]["change"] for s in skus[2:]} == {"held"}
        assert plan["counts"]["held"] == len(skus) - 2
        assert _snapshot(db) == digest
        assert sandbox.shown() == shown
        as_csv = await asyncio.to_thread(
            runner.invoke, app, ["sync", "plan", "--config", str(config), "--csv"]
        )
        assert as_csv.output.splitlines()[0] == "account,listing,sku,shown,desired,change,delta"
        assert len(as_csv.output.splitlines()) == 1 + len(skus)


async def test_a_first_push_over_the_guard_is_refused_until_approved(
    tmp_path: Path, woo_env: WooSandbox
) -> None:
    sandbox = woo_env
    async with sandbox.running(), served(sandbox.app) as url:
        guard = "first_sync_guard = { max_to_zero = 1 }"
        config = await _shop(tmp_path, sandbox, url, guard=guard)
        # Counted: none of any SKU left. A first push would zero all four listings.
        await _prepare(config, [_stock(StockCounted, sku, 0) for sku in sorted(sandbox.shown())])
        shown = sandbox.shown()
        # What `omnistock run` does at start (the command prints the error, exit status 2).
        with pytest.raises(
            FirstPushRefusedError, match="4 listings would go to zero \\(limit 1\\)"
        ):
            await run_engine(
                load_config(config), vault=None, environ=os.environ, stop=asyncio.Event()
            )
        assert sandbox.shown() == shown
        approved = await asyncio.to_thread(
            runner.invoke, app, ["sync", "apply", "woo", "--config", str(config), "--yes"]
        )
        assert approved.exit_code == 0, approved.output
        assert all(q == 0 for q in sandbox.shown().values())
        # Approved: the next start's guard sees nothing never pushed.
        planned = await asyncio.to_thread(
            runner.invoke, app, ["sync", "plan", "--config", str(config), "--json"]
        )
        counts = json.loads(planned.output)["accounts"]["woo"]["counts"]
        assert counts["unchanged"] == 4


def test_a_database_that_cannot_be_opened_or_reached_is_one_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    folderless = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"
    opened = runner.invoke(app, ["db", "migrate", "--db", folderless])
    assert opened.exit_code == 2
    assert "cannot open the database" in opened.output
    unreachable = "postgresql://omnistock:hunter2@127.0.0.1:1/shop"
    reached = runner.invoke(app, ["db", "status", "--db", unreachable])
    assert reached.exit_code == 2
    assert "cannot connect to PostgreSQL at 127.0.0.1" in reached.output
    assert "hunter2" not in reached.output
    assert "Traceback" not in reached.output + opened.output


def test_run_takes_its_database_and_address_by_the_same_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "omnistock.toml"
    config.write_text(
        'database_url = "sqlite:///file.db"\nlisten = "127.0.0.1:9001"\n'
        'reservation_policy = "reject"\n[[locations]]\nid = "main"\n'
    )
    for name in ("DATABASE_URL", "LISTEN", "RESERVATION_POLICY", "CONFIG"):
        monkeypatch.delenv(f"OMNISTOCK_{name}", raising=False)
    chosen = engine_config(config)
    assert (chosen.database_url, chosen.listen) == ("sqlite:///file.db", "127.0.0.1:9001")
    monkeypatch.setenv("OMNISTOCK_DATABASE_URL", "sqlite:///env.db")
    monkeypatch.setenv("OMNISTOCK_LISTEN", "127.0.0.1:9002")
    monkeypatch.setenv("OMNISTOCK_RESERVATION_POLICY", "backorder")
    chosen = engine_config(config)
    assert (chosen.database_url, chosen.listen) == ("sqlite:///env.db", "127.0.0.1:9002")
    assert chosen.reservation_policy.value == "backorder"
    chosen = engine_config(config, db="sqlite:///flag.db", listen="127.0.0.1:9003")
    assert (chosen.database_url, chosen.listen) == ("sqlite:///flag.db", "127.0.0.1:9003")
    monkeypatch.setenv("OMNISTOCK_CONFIG", str(config))
    assert engine_config(None).listen == "127.0.0.1:9002"
    monkeypatch.delenv("OMNISTOCK_CONFIG")
    with pytest.raises(ConfigError, match="give --config FILE or set OMNISTOCK_CONFIG"):
        engine_config(None)


def test_a_stock_file_may_name_the_config_s_locations_before_run_ever_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config's locations and accounts are written first by the commands that edit
    the catalog or stock, so a fresh database accepts a file naming them."""
    monkeypatch.delenv("OMNISTOCK_DATABASE_URL", raising=False)
    config = tmp_path / "omnistock.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "shop.db"}"\n[[locations]]\nid = "main"\n'
    )
    monkeypatch.setenv("OMNISTOCK_CONFIG", str(config))
    assert runner.invoke(app, ["db", "migrate"]).exit_code == 0
    items = tmp_path / "items.csv"
    items.write_text("sku,name\nMUG,Mug\n")
    assert runner.invoke(app, ["catalog", "import", str(items)]).exit_code == 0
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,location,quantity\nMUG,main,4\n")
    imported = runner.invoke(app, ["import", str(stock)])
    assert imported.exit_code == 0, imported.output
