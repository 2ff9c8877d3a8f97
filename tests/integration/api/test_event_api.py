"""The event API over a real store: scoped tokens, idempotency, and a 4xx for bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from omnistock.api.app import create_api
from omnistock.api.common import MAX_BODY_BYTES
from omnistock.clock import ManualClock, SystemTimer
from omnistock.domain.balance import Balance
from omnistock.domain.ids import Sku
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope, new_token
from tests.contract.builders import WH, seed

NOW = datetime(2026, 11, 27, tzinfo=UTC)
RECEIVE = {
    "type": "received",
    "sku": "A",
    "location": "wh1",
    "quantity": 5,
    "occurred_at": "2026-11-27T10:00:00Z",
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'api.db'}")
    await seed(opened, ["A", "B"])
    yield opened
    await opened.close()


async def _token(store: Store, name: str, scope: Scope) -> str:
    token, stored = new_token()
    await store.tokens.create(name, scope.value, stored, NOW)
    return token.reveal()


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_api(store, ManualClock(NOW), SystemTimer()))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http


def _headers(token: str, key: str | None = "k-1") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def test_an_event_applies_once_and_a_replay_is_a_duplicate(
    store: Store, client: httpx.AsyncClient
) -> None:
    token = await _token(store, "erp", Scope.WRITE)
    first = await client.post("/v1/events", json=RECEIVE, headers=_headers(token))
    assert first.status_code == 200
    assert first.json()["results"] == [
        {"index": 0, "status": "applied", "sequences": [1], "rejection": None}
    ]
    again = await client.post("/v1/events", json=RECEIVE, headers=_headers(token))
    assert again.json()["results"][0]["status"] == "duplicate"
    assert await store.ledger.balances([Sku("A")]) == {"A": {WH: Balance(5, 0)}}
    [stored] = await store.ledger.read()
    assert stored.event.source == "api:erp"


async def test_a_batch_reports_each_event(store: Store, client: httpx.AsyncClient) -> None:
    token = await _token(store, "erp", Scope.WRITE)
    order = {**RECEIVE, "type": "reserved", "quantity": 9, "order_line": "o-1"}
    response = await client.post(
        "/v1/events", json={"events": [RECEIVE, order]}, headers=_headers(token, "batch-1")
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["rejection"]["code"] == "insufficient_stock"


async def test_reusing_a_key_for_another_payload_is_a_conflict(
    store: Store, client: httpx.AsyncClient
) -> None:
    token = await _token(store, "erp", Scope.WRITE)
    await client.post("/v1/events", json=RECEIVE, headers=_headers(token))
    other = {**RECEIVE, "quantity": 6}
    response = await client.post("/v1/events", json=other, headers=_headers(token))
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_conflict"


async def test_concurrent_requests_share_an_append_and_a_conflict_fails_only_its_own(
    store: Store, client: httpx.AsyncClient
) -> None:
    token = await _token(store, "erp", Scope.WRITE)
    await client.post("/v1/events", json=RECEIVE, headers=_headers(token, "taken"))
    other, conflicting = {**RECEIVE, "sku": "B"}, {**RECEIVE, "quantity": 7}
    responses = await asyncio.gather(
        *(
            client.post("/v1/events", json=other, headers=_headers(token, f"b-{n}"))
            for n in range(5)
        ),
        client.post("/v1/events", json=conflicting, headers=_headers(token, "taken")),
    )
    assert [r.status_code for r in responses] == [200] * 5 + [409]
    assert {r.json()["results"][0]["status"] for r in responses[:5]} == {"applied"}
    assert await store.ledger.balances([Sku("A"), Sku("B")]) == {
        "A": {WH: Balance(5, 0)},
        "B": {WH: Balance(25, 0)},
    }


async def test_tokens_and_scopes(store: Store, client: httpx.AsyncClient) -> None:
    reader = await _token(store, "dashboard", Scope.READ)
    missing = await client.post("/v1/events", json=RECEIVE, headers={"Idempotency-Key": "k"})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = await client.post("/v1/events", json=RECEIVE, headers=_headers("osk_forged"))
    assert forged.status_code == 401
    weak = await client.post("/v1/events", json=RECEIVE, headers=_headers(reader))
    assert weak.status_code == 403
    await store.tokens.revoke("dashboard")
    revoked = await client.get("/v1/balances?sku=A", headers=_headers(reader))
    assert revoked.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "malformed_json"),
        (json.dumps({**RECEIVE, "quantity": "5"}).encode(), 422, "invalid_body"),
        (json.dumps({**RECEIVE, "type": "teleported"}).encode(), 422, "invalid_body"),
        (json.dumps({**RECEIVE, "extra": 1}).encode(), 422, "invalid_body"),
        (
            json.dumps({**RECEIVE, "occurred_at": "2026-11-27T10:00:00"}).encode(),
            422,
            "invalid_body",
        ),
        (json.dumps({**RECEIVE, "sku": "NOPE"}).encode(), 422, "unknown_entity"),
        (json.dumps({**RECEIVE, "quantity": 0}).encode(), 422, "invalid_input"),
        (json.dumps({**RECEIVE, "quantity": 2**31}).encode(), 422, "invalid_input"),
        (json.dumps({"events": []}).encode(), 422, "invalid_body"),
        (b"x" * (MAX_BODY_BYTES + 1), 413, "body_too_large"),
    ],
)
async def test_bad_input_is_a_4xx_and_writes_nothing(
    store: Store, client: httpx.AsyncClient, body: bytes, status: int, error: str
) -> None:
    token = await _token(store, "erp", Scope.WRITE)
    headers = {**_headers(token), "Content-Type": "application/json"}
    response = await client.post("/v1/events", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert await store.ledger.read() == []


async def test_a_bad_field_is_named(store: Store, client: httpx.AsyncClient) -> None:
    token = await _token(store, "erp", Scope.WRITE)
    body = {"events": [RECEIVE, {**RECEIVE, "quantity": -1}]}
    response = await client.post("/v1/events", json=body, headers=_headers(token))
    assert response.status_code == 422
    assert response.json()["message"] == "events[1].quantity: must be at least 1, got -1"


async def test_missing_idempotency_key_is_refused(store: Store, client: httpx.AsyncClient) -> None:
    token = await _token(store, "erp", Scope.WRITE)
    response = await client.post("/v1/events", json=RECEIVE, headers=_headers(token, key=None))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_idempotency_key"


async def test_balances_and_sync_state(store: Store, client: httpx.AsyncClient) -> None:
    writer = await _token(store, "erp", Scope.ADMIN)
    await client.post("/v1/events", json=RECEIVE, headers=_headers(writer))
    balances = await client.get("/v1/balances?sku=A&sku=B", headers=_headers(writer))
    assert balances.json() == {
        "A": {"wh1": {"on_hand": 5, "reserved": 0, "available": 5}},
        "B": {},
    }
    sync = await client.get("/v1/sync/shop:A", headers=_headers(writer))
    assert sync.json()["desired"] == 5
    assert sync.json()["dirty"] is True
    unknown = await client.get("/v1/sync/nope", headers=_headers(writer))
    assert unknown.status_code == 404
    no_sku = await client.get("/v1/balances", headers=_headers(writer))
    assert no_sku.status_code == 422
