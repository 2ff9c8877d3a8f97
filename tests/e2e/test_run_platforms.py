"""`omnistock run` end to end on every platform: the platform's sandbox over a real socket,
the engine from a TOML file naming one account of that platform (credentials from the
environment), stock through the event API, an order through the platform's notifications
(or its order polling), and the API reading the reservation back."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from omnistock.engine_config import load_config
from omnistock.kit.merchant import PLATFORM_ORDER
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.common.storefront import Storefront
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.registry import SANDBOXES
from omnistock.ledger.store import Store
from omnistock.runner import run_engine
from omnistock.security.tokens import Scope, new_token
from omnistock.security.vault import env_name
from tests.serving import CLIENT_LIMITS, served

ACCOUNT = "shop"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polls state in other tasks and sockets
            await asyncio.sleep(0.05)


def _config(sandbox: Storefront, platform: str, address: str, db: Path, listen: str) -> str:
    listings = sandbox.listings()[:2]
    lines = [
        f'database_url = "sqlite:///{db}"',
        f'listen = "{listen}"',
        "[[locations]]",
        'id = "main"',
    ]
    for listing in listings:
        lines += ["[[items]]", f"sku = {json.dumps(listing.sku)}"]
    lines += [
        "[[accounts]]",
        f'id = "{ACCOUNT}"',
        f'platform = "{platform}"',
        f"base_url = {json.dumps(sandbox.connection().base_url(address))}",
        'location = "main"',
    ]
    for listing in listings:
        ids = ", ".join(f"{k} = {json.dumps(v)}" for k, v in listing.external_ids.items())
        lines += [
            "[[listings]]",
            f'account = "{ACCOUNT}"',
            f"sku = {json.dumps(listing.sku)}",
            f"external_ids = {{ {ids} }}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(90)
@pytest.mark.parametrize("platform", PLATFORM_ORDER)
async def test_run_syncs_an_account_of_every_platform(platform: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient() as hooks:
        options = SandboxOptions(
            base_url="https://shop.sandbox.test",
            seed=3,
            skus=4,
            variant_share=0.0,
            webhook_client=hooks,
        )
        sandbox = SANDBOXES[platform](options)
        async with sandbox.running(), served(sandbox.app) as address:
            await _run_and_check(sandbox, platform, address, tmp_path)


async def _run_and_check(sandbox: Storefront, platform: str, address: str, tmp: Path) -> None:
    listen = f"127.0.0.1:{_free_port()}"
    db = tmp / "engine.db"
    config_path = tmp / "omnistock.toml"
    config_path.write_text(_config(sandbox, platform, address, db, listen))
    skus = [listing.sku for listing in sandbox.listings()[:2]]
    environ = {
        env_name(ACCOUNT, name): value for name, value in sandbox.connection().credentials.items()
    }
    token, digest = new_token()
    store = await Store.open(f"sqlite:///{db}")
    await store.tokens.create("erp", Scope.WRITE.value, digest, datetime.now(UTC))
    await store.close()

    async def shows(quantity: int) -> bool:
        shown = sandbox.shown()
        return all(shown.get(sku, 0) == quantity for sku in skus)

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
            # No stock known yet: the first sync leaves the listings as the channel has them;
            # the merchant's count of zero is pushed.
            counted = _events("counted", skus, 0)
            response = await api.post("/v1/events", json=counted, headers={"Idempotency-Key": "c0"})
            assert response.status_code == 200, response.text
            await _eventually(lambda: shows(0))
            body = _events("received", skus, 5)
            response = await api.post("/v1/events", json=body, headers={"Idempotency-Key": "po-1"})
            assert [r["status"] for r in response.json()["results"]] == ["applied", "applied"]
            await _eventually(lambda: shows(5))
            await sandbox.connect(f"http://{listen}/webhooks/{ACCOUNT}")
            sandbox.core.shop.place_order([OrderLine(sku=skus[0], quantity=2)])

            async def reserved() -> bool:
                got = (await api.get("/v1/balances", params={"sku": skus[0]})).json()
                return bool(got[skus[0]].get("main", {}).get("reserved") == 2)

            await _eventually(reserved)
            # The other listing still shows 5; the ordered one shows what is left.
            await _eventually(lambda: _shown_is(sandbox, {skus[0]: 3, skus[1]: 5}))
            health = (await api.get("/v1/health")).json()
            assert health["accounts"][ACCOUNT]["circuit"] == "closed"
            assert health["inbox"]["parked"] == 0
    finally:
        stop.set()
        await asyncio.wait_for(engine, 15)


def _events(kind: str, skus: list[str], quantity: int) -> dict[str, object]:
    """A body for POST /v1/events: `quantity` of each of `skus`."""
    return {
        "events": [
            {
                "type": kind,
                "sku": sku,
                "location": "main",
                "quantity": quantity,
                "occurred_at": "2026-11-28T10:00:00Z",
            }
            for sku in skus
        ]
    }


async def _shown_is(sandbox: Storefront, expected: dict[str, int]) -> bool:
    shown = sandbox.shown()
    return all(shown.get(sku, 0) == quantity for sku, quantity in expected.items())


async def _up(api: httpx.AsyncClient) -> bool:
    try:
        return (await api.get("/v1/health")).status_code == 200
    except httpx.TransportError:
        return False
