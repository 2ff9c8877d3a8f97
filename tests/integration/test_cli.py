"""The omnistock command, run in process: demo, ledger verify and bench."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from omnistock.cli import app
from omnistock.ledger.store import Store
from tests.contract.builders import received, reserved, seed

runner = CliRunner()


def test_demo_json_converges_and_measures() -> None:
    result = runner.invoke(app, ["demo", "--json", "--duration", "3", "--skus", "12"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["converged"] is True
    # Shoppers buy what a channel shows; a sale racing the push can still oversell.
    assert 0 <= summary["oversold_orders"] <= summary["orders_accepted"]
    assert summary["orders_accepted"] > 0
    assert summary["events_applied"] > summary["orders_accepted"]
    assert set(summary["api_calls"]) == {"woo-1", "shopify-1", "amazon-1", "ebay-1"}
    assert summary["propagation_ms"]["count"] > 0
    assert summary["propagation_ms"]["p50"] > 0


def test_ledger_verify_passes_then_fails_on_tampering(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"

    async def build() -> None:
        store = await Store.open(f"sqlite:///{path}")
        try:
            await seed(store, ["A", "B"])
            await store.ledger.append([received("A", 5), reserved("A", 2), received("B", 1)])
        finally:
            await store.close()

    asyncio.run(build())
    ok = runner.invoke(app, ["ledger", "verify", "--db", f"sqlite:///{path}"])
    assert ok.exit_code == 0, ok.output
    assert "equal" in ok.output
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE listing_sync SET desired_qty = desired_qty + 1")
    bad = runner.invoke(app, ["ledger", "verify", "--db", f"sqlite:///{path}"])
    assert bad.exit_code == 1
    assert "mismatch" in bad.output


def test_ledger_verify_rejects_an_unknown_url() -> None:
    result = runner.invoke(app, ["ledger", "verify", "--db", "mysql://x"])
    assert result.exit_code == 2
    assert "unsupported database URL" in result.output


def test_bench_ledger_quick_json_has_figures_and_targets() -> None:
    result = runner.invoke(app, ["bench", "ledger", "--quick", "--json", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["ledger"]["sqlite"]
    assert figures["events_per_s"] > 0
    assert figures["raw_rows_per_s"] > figures["events_per_s"]
    assert set(figures["target_met"]) == {"events_per_s", "ratio_to_raw"}


def test_bench_reports_the_machines_speed_beside_the_scenarios() -> None:
    result = runner.invoke(app, ["bench", "ledger", "--quick", "--json", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    machine = json.loads(result.output)["machine"]
    assert machine["python_ops_per_s"] > 0
    assert machine["sqlite_rows_per_s"] > 0
    assert machine["cpus"] >= 1


def test_bench_refuses_an_unknown_scenario() -> None:
    result = runner.invoke(app, ["bench", "nope"])
    assert result.exit_code == 2
    assert "unknown scenario" in result.output


def test_bench_push_quick_uses_the_minimum_of_calls_on_each_platform() -> None:
    result = runner.invoke(app, ["bench", "push", "--quick", "--json", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["push"]
    woo, shopify, ebay = figures["woocommerce"], figures["shopify"], figures["ebay"]
    assert woo["api_calls"] == woo["min_api_calls"] == 10
    assert (woo["succeeded"], woo["sandbox_matches"]) == (1_000, True)
    assert shopify["api_calls"] == shopify["min_api_calls"] == 4
    assert ebay["api_calls"] == ebay["min_api_calls"] == 40
    assert ebay["sandbox_matches"] is True
    amazon = figures["amazon"]
    # 1,000 listings: a feed beats patches; both paths end with every quantity shown.
    assert amazon["feed"]["applied_s"] < amazon["patches"]["applied_s"]


def test_bench_prints_a_table_per_scenario() -> None:
    result = runner.invoke(app, ["bench", "ledger", "--quick", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert "omnistock bench ledger" in result.output
    assert "sqlite.events_per_s" in result.output
    assert "omnistock bench machine" in result.output
    assert "sqlite_rows_per_s" in result.output


def test_credentials_set_and_list_never_show_values(tmp_path: Path) -> None:
    key = runner.invoke(app, ["credentials", "key"]).output.strip()
    env = {"OMNISTOCK_MASTER_KEY": key, "OMNISTOCK_CREDENTIALS_PATH": str(tmp_path / "c.enc")}
    stored = runner.invoke(
        app, ["credentials", "set", "woo-eu", "consumer_secret"], input="cs_x\n", env=env
    )
    assert stored.exit_code == 0, stored.output
    listed = runner.invoke(app, ["credentials", "list"], env=env)
    assert listed.output.strip() == "woo-eu: consumer_secret"
    assert "cs_x" not in (tmp_path / "c.enc").read_text(errors="replace")
    no_key = runner.invoke(app, ["credentials", "list"], env={"OMNISTOCK_MASTER_KEY": ""})
    assert no_key.exit_code == 2


def test_token_create_list_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tokens.db'}"
    missing = runner.invoke(app, ["token", "create", "--name", "erp", "--db", url])
    assert missing.exit_code == 2
    assert "no database at" in missing.output
    assert not (tmp_path / "tokens.db").exists()  # refused, and nothing created
    assert runner.invoke(app, ["db", "migrate", "--db", url]).exit_code == 0
    created = runner.invoke(
        app, ["token", "create", "--name", "erp", "--scope", "write", "--db", url]
    )
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    assert token.startswith("osk_")
    again = runner.invoke(app, ["token", "create", "--name", "erp", "--db", url])
    assert again.exit_code == 2
    listed = runner.invoke(app, ["token", "list", "--db", url])
    assert "erp\twrite\tactive" in listed.output
    assert token not in listed.output
    assert runner.invoke(app, ["token", "revoke", "erp", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["token", "revoke", "erp", "--db", url]).exit_code == 1
