"""The onboarding commands, one after another as the README walks through them, against a
sandbox of every platform served on loopback: `db migrate`, `catalog import`, `import`,
`listings discover`, `listings link --apply`, `sync plan` (which then writes nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnistock.cli import app
from omnistock.kit.merchant import PLATFORM_ORDER
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.common.storefront import Storefront
from omnistock.kit.sandbox.registry import SANDBOXES
from omnistock.security.vault import env_name
from tests.serving import served_on_a_thread

runner = CliRunner()
SKUS = 12


@pytest.fixture
def store_of(request: pytest.FixtureRequest) -> Iterator[tuple[Storefront, str]]:
    """The platform's sandbox served by uvicorn on its own thread and loop (the CLI runs
    its own loop in this one)."""
    options = SandboxOptions(base_url="http://shop.test", seed=5, skus=SKUS, variant_share=0.0)
    sandbox = SANDBOXES[request.param](options)
    with served_on_a_thread(sandbox.app, running=sandbox) as url:
        yield sandbox, url


@pytest.mark.parametrize("store_of", PLATFORM_ORDER, indirect=True)
def test_a_store_is_onboarded_by_the_commands_alone(
    store_of: tuple[Storefront, str], tmp_path: Path
) -> None:
    sandbox, address = store_of
    connection = sandbox.connection()
    own = "".join(f'{k} = "{v}"\n' for k, v in connection.settings.items())
    config = tmp_path / "omnistock.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "shop.db"}"\n[[locations]]\nid = "main"\n'
        f'[[accounts]]\nid = "shop"\nplatform = "{sandbox.platform}"\n'
        f'base_url = "{connection.base_url(address)}"\nlocation = "main"\n{own}'
    )
    env = {"OMNISTOCK_CONFIG": str(config), "OMNISTOCK_DATABASE_URL": None}
    env |= {env_name("shop", k): v for k, v in connection.credentials.items()}
    skus = sorted(x.sku for x in sandbox.listings())
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"kind": "item", "sku": s}) + "\n" for s in skus))
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,location,quantity\n" + "".join(f"{s},main,3\n" for s in skus[:5]))

    def ok(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, (args, result.output)
        return result.output

    ok("db", "migrate")
    ok("catalog", "import", str(items))
    ok("import", str(stock))
    ok("listings", "discover", "shop")
    linked = json.loads(ok("listings", "link", "shop", "--apply", "--json"))
    assert sorted(row["catalog_sku"] for row in linked["linked"]) == skus
    shown = sandbox.shown()
    plan = json.loads(ok("sync", "plan", "shop", "--json"))["accounts"]["shop"]
    assert plan["counts"]["held"] == len(skus) - 5  # no stock known for them: not written
    writes = {w["sku"]: w for w in plan["writes"]}
    assert {writes[s]["desired"] for s in skus[:5]} == {3}
    assert sandbox.shown() == shown
