"""`omnistock run` end to end: a WooCommerce sandbox over a real socket, the engine from a
TOML file with credentials from the environment, the API and webhooks over HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from omnistock.engine_config import load_config
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox
from omnistock.kit.sandbox.woocommerce.store import Item
from omnistock.ledger.store import Store
from omnistock.runner import run_engine
from omnistock.security.tokens import Scope, new_token
from omnistock.security.vault import env_name
from tests.serving import CLIENT_LIMITS, served

SECRET = "e2e-webhook-secret"  # noqa: S105 - a test value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(10):
        while not await check():  # noqa: ASYNC110 - polls state in other processes/sockets
            await asyncio.sleep(0.05)


@pytest.fixture
async def site() -> AsyncIterator[tuple[WooSandbox, str]]:
    sandbox = WooSandbox(WooConfig(seed=3, skus=4, variant_share=0.0))
    async with sandbox.running(), served(sandbox.app) as url:
        yield sandbox, url


async def test_run_pushes_api_events_and_reserves_webhook_orders(
    site: tuple[WooSandbox, str], tmp_path: Path
) -> None:
    sandbox, url = site
    products = sorted(sandbox.store.sellable(), key=lambda p: p.sku)[:2]
    listen = f"127.0.0.1:{_free_port()}"
    db = tmp_path / "engine.db"
    listings = "\n".join(
        f'[[listings]]\naccount = "shop"\nsku = "{p.sku}"\n'
        f'external_ids = {{ product_id = "{p.id}" }}\n'
        for p in products
    )
    items = "\n".join(f'[[items]]\nsku = "{p.sku}"\n' for p in products)
    config_path = tmp_path / "omnistock.toml"
    config_path.write_text(
        f'database_url = "sqlite:///{db}"\nlisten = "{listen}"\n'
        '[[locations]]\nid = "main"\n'
        f"{items}\n"
        '[[accounts]]\nid = "shop"\nplatform = "woocommerce"\n'
        f'base_url = "{url}/wp-json/wc/v3/"\nlocation = "main"\n'
        f"{listings}"
    )
    creds = sandbox.credentials()
    environ = {
        env_name("shop", "consumer_key"): creds["consumer_key"],
        env_name("shop", "consumer_secret"): creds["consumer_secret"],
        env_name("shop", "webhook_secret"): SECRET,
    }
    token, digest = new_token()
    store = await Store.open(f"sqlite:///{db}")
    await store.tokens.create("erp", Scope.WRITE.value, digest, datetime.now(UTC))
    await store.close()

    stop = asyncio.Event()
    engine = asyncio.create_task(
        run_engine(load_config(config_path), vault=None, environ=environ, stop=stop)
    )
    try:
        auth = {"Authorization": f"Bearer {token.reveal()}"}
        async with httpx.AsyncClient(
            base_url=f"http://{listen}", headers=auth, limits=CLIENT_LIMITS
        ) as api:
            await _eventually(lambda: _up(api))
            # First sync: no stock known yet, so both products keep what the shop shows.
            before = [p.stock_quantity for p in products]
            await asyncio.sleep(1.0)
            assert await _shows(sandbox, products, before)
            body = {
                "events": [
                    {
                        "type": "received",
                        "sku": p.sku,
                        "location": "main",
                        "quantity": 5,
                        "occurred_at": "2026-11-27T10:00:00Z",
                    }
                    for p in products
                ]
            }
            response = await api.post("/v1/events", json=body, headers={"Idempotency-Key": "po-1"})
            assert [r["status"] for r in response.json()["results"]] == ["applied", "applied"]
            await _eventually(lambda: _shows(sandbox, products, [5, 5]))
            async with httpx.AsyncClient(
                base_url=url, auth=(creds["consumer_key"], creds["consumer_secret"])
            ) as woo:
                hook = await woo.post(
                    "/wp-json/wc/v3/webhooks",
                    json={
                        "name": "omnistock",
                        "topic": "order.created",
                        "status": "active",
                        "delivery_url": f"http://{listen}/webhooks/shop",
                        "secret": SECRET,
                    },
                )
                assert hook.status_code == 201
            sandbox.store.place_order([OrderLine(sku=products[0].sku, quantity=2)])

            async def reserved() -> bool:
                got = await api.get("/v1/balances", params={"sku": products[0].sku})
                return bool(got.json()[products[0].sku].get("main", {}).get("reserved") == 2)

            await _eventually(reserved)
            health = (await api.get("/v1/health")).json()
            assert health["accounts"]["shop"]["circuit"] == "closed"
            assert health["inbox"]["parked"] == 0
            assert health["processed"]["applied"] >= 1
    finally:
        stop.set()
        await asyncio.wait_for(engine, 10)


async def _up(api: httpx.AsyncClient) -> bool:
    try:
        return (await api.get("/v1/health")).status_code == 200
    except httpx.TransportError:
        return False


async def _shows(sandbox: WooSandbox, products: list[Item], quantities: list[int | None]) -> bool:
    return [p.stock_quantity for p in products] == quantities
