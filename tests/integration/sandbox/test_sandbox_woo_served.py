"""The WooCommerce sandbox served by uvicorn on a loopback port, as the CLI runs it.

A tiny receiver, also on loopback, gets the ping and a signed product.updated webhook.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.serving import served as serve_app

from omnistock.kit.sandbox.registry import serve


class ReceiverApp:
    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()

    async def hook(self, request: Request) -> Response:
        await self.received.put((dict(request.headers), await request.body()))
        return Response(status_code=200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[ReceiverApp, str]]:
    app = ReceiverApp()
    starlette = Starlette(routes=[Route("/hook", app.hook, methods=["POST"])])
    async with serve_app(starlette) as base:
        yield app, f"{base}/hook"


@pytest.fixture
async def served() -> AsyncIterator[dict[str, object]]:
    lines: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(serve("woocommerce", port=0, seed=5, skus=8, ready=lines.put_nowait))
    line = await asyncio.wait_for(lines.get(), timeout=10)
    yield json.loads(line)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lines.empty()  # exactly one ready line


async def test_served_sandbox_answers_and_delivers_signed_webhooks(
    served: dict[str, object], receiver: tuple[ReceiverApp, str]
) -> None:
    app, hook_url = receiver
    assert served["platform"] == "woocommerce"
    base_url, admin_url = str(served["base_url"]), str(served["admin_url"])
    creds = served["credentials"]
    assert isinstance(creds, dict)
    assert admin_url == base_url + "/_sandbox"
    auth = (creds["consumer_key"], creds["consumer_secret"])
    async with httpx.AsyncClient(
        base_url=base_url + "/wp-json/wc/v3", auth=auth, timeout=5
    ) as http:
        body = {"topic": "product.updated", "delivery_url": hook_url, "secret": "wire-secret"}
        assert (await http.post("/webhooks", json=body)).status_code == 201
        _, ping = await asyncio.wait_for(app.received.get(), timeout=5)
        assert ping.startswith(b"webhook_id=")
        product = (await http.get("/products", params={"per_page": 1})).json()[0]
        put = await http.put(
            f"/products/{product['id']}", json={"manage_stock": True, "stock_quantity": 12}
        )
        assert put.status_code == 200
        headers, payload = await asyncio.wait_for(app.received.get(), timeout=5)
    digest = hmac.new(b"wire-secret", payload, hashlib.sha256).digest()
    assert headers["x-wc-webhook-signature"] == base64.b64encode(digest).decode()
    assert json.loads(payload)["stock_quantity"] == 12


async def test_served_sandbox_faults_over_the_wire(served: dict[str, object]) -> None:
    admin_url = str(served["admin_url"])
    async with httpx.AsyncClient(timeout=5) as client:
        await client.put(
            f"{admin_url}/faults", json={"outage": {"duration_s": 60, "mode": "reset"}}
        )
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"{served['base_url']}/wp-json/wc/v3/products")
        await client.put(f"{admin_url}/faults", json={})
        calls = (await client.get(f"{admin_url}/calls")).json()
    assert calls["calls"][0]["faulted"] is True
