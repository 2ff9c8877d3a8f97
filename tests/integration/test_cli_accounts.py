"""`omnistock accounts connect|disconnect`, run in process through typer's CliRunner against
sandboxes served on loopback sockets, configured as `omnistock run` is (TOML + environment)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from omnistock.cli import app
from omnistock.clock import SystemTimer
from omnistock.engine_config import Catalog, load_config
from omnistock.kit.merchant import Merchant, build_merchant, credential_env, engine_toml
from omnistock.kit.serving import loopback_socket, served, url_of
from omnistock.runner import build_adapters
from tests.integration.adapters.test_notifications import Receiver

runner = CliRunner()


@dataclass
class Served:
    shop: Merchant
    config: Path
    env: dict[str, str]
    public_url: str

    @property
    def account(self) -> str:
        return self.shop.stores[0].account


@pytest.fixture(params=["woocommerce", "shopify", "ebay", "amazon"])
async def served_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Served]:
    store_sock, engine_sock = loopback_socket(), loopback_socket()
    public_url = url_of(engine_sock)
    shop = build_merchant(
        [request.param], skus=3, seed=5, addresses=[url_of(store_sock)], engine_url=public_url
    )
    (store,) = shop.stores
    info = store.info()
    env = credential_env([info])
    if store.platform == "ebay":  # the endpoint eBay's challenge is answered for
        endpoint = f"{public_url}/webhooks/{store.account}"
        info = replace(info, settings={**info.settings, "notification_endpoint": endpoint})
    if store.platform == "amazon":
        queue = store.sandbox.connection().settings["notification_queue"]
        store.sandbox.bridge(queue, f"{public_url}/webhooks/{store.account}")  # type: ignore[attr-defined]
    config = tmp_path / "omnistock.toml"
    config.write_text(
        engine_toml([info], database_url=f"sqlite:///{tmp_path}/x.db", listen="127.0.0.1:0")
    )
    # The engine's side, built as `omnistock run` builds it from the same configuration.
    engine_adapters = build_adapters(Catalog(load_config(config)), None, env, SystemTimer())
    receiver = Receiver(engine_adapters[store.account])
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(store.sandbox.running())
        await stack.enter_async_context(served(store.sandbox.app, sock=store_sock))
        await stack.enter_async_context(served(receiver, sock=engine_sock))
        yield Served(shop, config, env, public_url)
        await receiver.adapter.aclose()
    await shop.aclose()


async def invoke(s: Served, *args: str) -> Result:
    """The command in a thread of its own (it runs its own event loop), the sandboxes on
    this one."""
    argv = [*args[:2], s.account, "--config", str(s.config), "--url", s.public_url, *args[2:]]
    return await asyncio.to_thread(runner.invoke, app, argv, env=s.env)


async def test_connect_registers_once_and_disconnect_removes(served_store: Served) -> None:
    first = await invoke(served_store, "accounts", "connect", "--json")
    assert first.exit_code == 0, first.output
    made = json.loads(first.output)
    assert made["account"] == served_store.account
    assert made["created"]
    again = json.loads((await invoke(served_store, "accounts", "connect", "--json")).output)
    assert again["created"] == []
    assert {s["id"] for s in again["kept"]} == {s["id"] for s in made["created"]}
    gone = await invoke(served_store, "accounts", "disconnect")
    assert gone.exit_code == 0, gone.output
    assert "removed" in gone.output  # the table
    after = json.loads((await invoke(served_store, "accounts", "connect", "--json")).output)
    assert len(after["created"]) == len(made["created"])


def test_an_unknown_account_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "omnistock.toml"
    config.write_text(engine_toml([], database_url="sqlite:///x.db", listen="127.0.0.1:0"))
    result = runner.invoke(
        app, ["accounts", "connect", "nope", "--config", str(config), "--url", "http://x"]
    )
    assert result.exit_code == 2
    assert "no account 'nope'" in result.output


async def test_amazon_needs_its_queue(tmp_path: Path) -> None:
    shop = build_merchant(["amazon"], skus=1, seed=1)
    info = shop.stores[0].info()
    info = replace(info, settings={"marketplace_id": info.settings["marketplace_id"]})
    config = tmp_path / "omnistock.toml"
    config.write_text(engine_toml([info], database_url="sqlite:///x.db", listen="127.0.0.1:0"))
    argv = ["accounts", "connect", info.account, "--config", str(config), "--url", "http://x"]
    result = await asyncio.to_thread(runner.invoke, app, argv, env=credential_env([info]))
    assert result.exit_code == 2
    assert "notification_queue" in result.output
    await shop.aclose()
