"""`omnistock listings discover|link` against a WooCommerce sandbox served on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnistock.cli import app
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.kit.sandbox.woocommerce.app import WooConfig
from omnistock.ledger.store import Store
from omnistock.security.vault import env_name
from tests.serving import served_on_a_thread

runner = CliRunner()


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[WooSandbox, str]]:
    """The sandbox served by uvicorn on its own thread and loop (the CLI runs its own)."""
    harness = WooSandbox(
        WooConfig(
            skus=260, variant_share=0.3, mix=ListingMix(unmanaged_share=0.1, duplicate_skus=2)
        )
    )
    with served_on_a_thread(harness.app) as url:
        yield harness, url


def write_config(tmp_path: Path, harness: WooSandbox, url: str, skus: list[str]) -> Path:
    items = "".join(f'[[items]]\nsku = "{sku}"\n' for sku in skus)
    path = tmp_path / "omnistock.toml"
    path.write_text(
        f'[[locations]]\nid = "main"\n{items}[[accounts]]\nid = "woo"\nplatform = "woocommerce"\n'
        f'base_url = "{harness.api_url(url)}"\nlocation = "main"\n'
    )
    return path


def credentials(harness: WooSandbox) -> dict[str, str]:
    creds = {**harness.credentials(), "webhook_secret": "unused"}
    return {env_name("woo", k): v for k, v in creds.items()}


def test_discover_then_link_then_apply(site: tuple[WooSandbox, str], tmp_path: Path) -> None:
    harness, url = site
    sellable = sorted({i.sku for i in harness.store.sellable()})
    catalog = [*sellable[:100], "NOT-ON-THE-SITE"]
    config = write_config(tmp_path, harness, url, catalog)
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = credentials(harness)
    unready = runner.invoke(
        app, ["listings", "discover", "woo", "--config", str(config), "--db", db], env=env
    )
    assert unready.exit_code == 2
    assert "omnistock db migrate" in unready.output
    migrated = runner.invoke(app, ["db", "migrate", "--db", db])
    assert migrated.exit_code == 0, migrated.output

    found = runner.invoke(
        app, ["listings", "discover", "woo", "--config", str(config), "--db", db], env=env
    )
    assert found.exit_code == 0, found.output
    total = len(harness.store.products) + len(harness.store.variations)
    assert f"{total} listings" in found.output

    report = runner.invoke(
        app, ["listings", "link", "woo", "--config", str(config), "--db", db, "--json"], env=env
    )
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    counts = data["counts"]
    assert counts["linked"] + counts["missing"] == len(catalog)
    assert "NOT-ON-THE-SITE" in data["missing"]
    assert counts["duplicates"] >= 2
    assert counts["unmanaged"] > 0
    listed = sum(counts[b] for b in ("linked", "unmatched", "duplicates", "unmanaged", "elsewhere"))
    assert listed == total

    text = runner.invoke(
        app, ["listings", "link", "woo", "--config", str(config), "--db", db], env=env
    )
    assert text.exit_code == 0
    assert f"{counts['linked']} linked" in text.output

    applied = runner.invoke(
        app, ["listings", "link", "woo", "--config", str(config), "--db", db, "--apply"], env=env
    )
    assert applied.exit_code == 0, applied.output
    assert f"{counts['linked']} listings written" in applied.output
    written = asyncio.run(_listings(db))
    assert sorted(x.sku for x in written) == sorted(x["catalog_sku"] for x in data["linked"])
    by_sku = {x["catalog_sku"]: x["external_ids"] for x in data["linked"]}
    assert all(x.id == f"woo:{x.sku}" and x.external_ids == by_sku[x.sku] for x in written)
    never = [x["external_ids"] for b in ("duplicates", "unmanaged", "unmatched") for x in data[b]]
    assert never
    assert all(x.external_ids not in never for x in written)

    again = runner.invoke(
        app, ["listings", "link", "woo", "--config", str(config), "--db", db, "--apply"], env=env
    )
    assert f"0 listings written, {counts['linked']} already listed" in again.output


async def _listings(db: str) -> list:  # type: ignore[type-arg]
    store = await Store.open(db)
    try:
        return await store.catalog.listings(AccountId("woo"))
    finally:
        await store.close()


def test_an_unknown_account_or_undiscovered_one_fails_clearly(
    site: tuple[WooSandbox, str], tmp_path: Path
) -> None:
    harness, url = site
    config = write_config(tmp_path, harness, url, ["A"])
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = credentials(harness)
    assert runner.invoke(app, ["db", "migrate", "--db", db]).exit_code == 0
    ghost = runner.invoke(
        app, ["listings", "discover", "ghost", "--config", str(config), "--db", db], env=env
    )
    assert ghost.exit_code == 2
    assert "no account 'ghost'" in ghost.output
    never = runner.invoke(
        app, ["listings", "link", "woo", "--config", str(config), "--db", db], env=env
    )
    assert never.exit_code == 2
    assert "no discovered listings" in never.output
    bare = runner.invoke(app, ["listings", "discover", "woo", "--config", str(config), "--db", db])
    assert bare.exit_code == 2
    assert "no consumer_key" in bare.output
