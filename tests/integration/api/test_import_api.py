"""POST /v1/imports over a real store: scoped tokens, body limits, file-level 4xx, and the
summary (200 even when some rows were refused)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from omnistock.api.common import ApiError, error_response
from omnistock.api.imports import MAX_IMPORT_BYTES, import_route
from omnistock.clock import ManualClock
from omnistock.domain.balance import Balance
from omnistock.domain.errors import OmnistockError
from omnistock.domain.ids import Sku
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope, new_token
from tests.contract.builders import WH, seed

NOW = datetime(2026, 11, 27, tzinfo=UTC)
CSV = b"sku,location,quantity,mode\nA,wh1,5,\nNOPE,wh1,1,\nB,wh1,-2,delta\nA,wh1,x,\n"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'api.db'}")
    await seed(opened, ["A", "B"])
    yield opened
    await opened.close()


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    # The route alone, with the API's error handlers (create_api mounts it beside the others).
    api = Starlette(
        routes=[import_route(store, ManualClock(NOW))],
        exception_handlers={ApiError: error_response, OmnistockError: error_response},
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http


async def _auth(store: Store, scope: Scope = Scope.WRITE, name: str = "erp") -> dict[str, str]:
    token, stored = new_token()
    await store.tokens.create(name, scope.value, stored, NOW)
    return {"Authorization": f"Bearer {token.reveal()}"}


async def test_the_summary_lists_every_refused_row(store: Store, client: httpx.AsyncClient) -> None:
    headers = await _auth(store)
    response = await client.post(
        "/v1/imports", params={"name": "stock.csv"}, content=CSV, headers=headers
    )
    assert response.status_code == 200
    summary = response.json()
    assert {k: summary[k] for k in ("source", "rows", "applied", "duplicates")} == {
        "source": "import:erp:stock.csv",
        "rows": 4,
        "applied": 1,
        "duplicates": 0,
    }
    assert summary["errors"] == [
        {"line": 3, "reason": "unknown sku 'NOPE'"},
        {"line": 5, "reason": "quantity: must be an integer, got 'x'"},
    ]
    assert [(r["line"], r["code"]) for r in summary["rejected"]] == [(4, "negative_on_hand")]
    assert await store.ledger.balances([Sku("A")]) == {"A": {WH: Balance(5, 0)}}
    again = await client.post(
        "/v1/imports", params={"format": "csv", "name": "renamed"}, content=CSV, headers=headers
    )
    assert (again.json()["applied"], again.json()["duplicates"]) == (0, 1)


async def test_jsonl_and_the_mode_parameter(store: Store, client: httpx.AsyncClient) -> None:
    body = b'{"sku": "A", "location": "wh1", "quantity": 3}\n'
    headers = await _auth(store)
    params = {"format": "jsonl", "mode": "delta"}
    for _ in range(2):
        response = await client.post("/v1/imports", params=params, content=body, headers=headers)
        assert response.status_code == 200, response.text
    assert await store.ledger.balances([Sku("A")]) == {"A": {WH: Balance(3, 0)}}


async def test_tokens_and_scopes(store: Store, client: httpx.AsyncClient) -> None:
    params = {"format": "csv"}
    missing = await client.post("/v1/imports", params=params, content=CSV)
    assert missing.status_code == 401
    forged = {"Authorization": "Bearer osk_forged"}
    assert (
        await client.post("/v1/imports", params=params, content=CSV, headers=forged)
    ).status_code == 401
    reader = await _auth(store, Scope.READ, "dashboard")
    weak = await client.post("/v1/imports", params=params, content=CSV, headers=reader)
    assert weak.status_code == 403
    assert await store.ledger.read() == []


async def test_a_body_over_the_limit_is_413(store: Store, client: httpx.AsyncClient) -> None:
    headers = await _auth(store)
    body = b"sku,location,quantity\n" + b"A,wh1,1\n" * (MAX_IMPORT_BYTES // 8)
    response = await client.post(
        "/v1/imports", params={"format": "csv"}, content=body, headers=headers
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert await store.ledger.read() == []


@pytest.mark.parametrize(
    ("params", "body", "status", "error", "message"),
    [
        ({"format": "csv"}, b"sku,location,quantity\nA,wh1,\xff\n", 400, "malformed_file", "UTF-8"),
        ({"format": "csv"}, b"sku,where,quantity\n", 422, "invalid_file", "unknown column"),
        ({"format": "csv"}, b"", 422, "invalid_file", "the file is empty"),
        ({}, CSV, 422, "invalid_query", "give format=csv or jsonl"),
        ({"name": "stock.xlsx"}, CSV, 422, "invalid_query", "give format=csv or jsonl"),
        ({"format": "xml"}, CSV, 422, "invalid_query", "format must be csv or jsonl"),
        ({"format": "csv", "mode": "sideways"}, CSV, 422, "invalid_query", "mode must be"),
        ({"format": "csv", "name": " x"}, CSV, 422, "invalid_query", "name: must not start"),
    ],
)
async def test_a_file_or_query_that_cannot_be_imported_is_a_4xx(
    store: Store,
    client: httpx.AsyncClient,
    params: dict[str, str],
    body: bytes,
    status: int,
    error: str,
    message: str,
) -> None:
    headers = await _auth(store)
    response = await client.post("/v1/imports", params=params, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert message in response.json()["message"]
    assert await store.ledger.read() == []


async def test_the_format_follows_the_names_extension(
    store: Store, client: httpx.AsyncClient
) -> None:
    headers = await _auth(store)
    response = await client.post(
        "/v1/imports", params={"name": "stock.CSV"}, content=CSV, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["applied"] == 1
