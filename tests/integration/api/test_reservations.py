"""Checkout reservations over HTTP: all lines or none, confirm, release, expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from omnistock.api.app import create_api
from omnistock.clock import ManualClock, SystemTimer
from omnistock.domain.balance import Balance
from omnistock.domain.ids import Sku
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope, new_token
from tests.contract.builders import WH, received, seed

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
TWO_LINES = {
    "lines": [
        {"sku": "A", "location": "wh1", "quantity": 2},
        {"sku": "B", "location": "wh1", "quantity": 1},
    ],
    "ttl_s": 600,
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'rsv.db'}")
    await seed(opened, ["A", "B"])
    await opened.ledger.append([received("A", 3), received("B", 1)])
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def client(store: Store, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    token, stored = new_token()
    await store.tokens.create("pos", Scope.WRITE.value, stored, NOW)
    transport = httpx.ASGITransport(app=create_api(store, clock, SystemTimer()))
    headers = {"Authorization": f"Bearer {token.reveal()}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", headers=headers
    ) as http:
        yield http


async def _balances(store: Store) -> dict[str, Balance]:
    found = await store.ledger.balances([Sku("A"), Sku("B")])
    return {sku: at[WH] for sku, at in found.items()}


async def test_hold_then_confirm(store: Store, client: httpx.AsyncClient) -> None:
    held = await client.post("/v1/reservations", json=TWO_LINES, headers={"Idempotency-Key": "c1"})
    assert held.status_code == 201
    body = held.json()
    assert (body["id"], body["status"]) == ("rsv:c1", "held")
    assert body["expires_at"] == (NOW + timedelta(seconds=600)).isoformat()
    assert await _balances(store) == {"A": Balance(3, 2), "B": Balance(1, 1)}
    again = await client.post("/v1/reservations", json=TWO_LINES, headers={"Idempotency-Key": "c1"})
    assert again.json() == body  # the retry answers the first result, holds nothing more
    assert await _balances(store) == {"A": Balance(3, 2), "B": Balance(1, 1)}
    confirmed = await client.post("/v1/reservations/rsv:c1/confirm")
    assert confirmed.json()["status"] == "confirmed"


async def test_one_short_line_rejects_the_whole_reservation(
    store: Store, client: httpx.AsyncClient
) -> None:
    greedy = {
        "lines": [
            {"sku": "A", "location": "wh1", "quantity": 1},
            {"sku": "B", "location": "wh1", "quantity": 5},
        ]
    }
    response = await client.post("/v1/reservations", json=greedy, headers={"Idempotency-Key": "g"})
    assert response.status_code == 409
    assert response.json()["status"] == "rejected"
    assert response.json()["reason"] == "requested 5, available 1"
    assert await _balances(store) == {"A": Balance(3, 0), "B": Balance(1, 0)}
    confirm = await client.post("/v1/reservations/rsv:g/confirm")
    assert confirm.status_code == 409


async def test_release_and_expiry_give_the_units_back(
    store: Store, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await client.post("/v1/reservations", json=TWO_LINES, headers={"Idempotency-Key": "r1"})
    released = await client.post("/v1/reservations/rsv:r1/release")
    assert released.json()["status"] == "released"
    assert await _balances(store) == {"A": Balance(3, 0), "B": Balance(1, 0)}
    assert (await client.post("/v1/reservations/rsv:r1/release")).json()["status"] == "released"
    await client.post("/v1/reservations", json=TWO_LINES, headers={"Idempotency-Key": "r2"})
    clock.advance(timedelta(seconds=599))
    assert await store.reservations.expire_due(clock.now()) == []
    clock.advance(timedelta(seconds=1))
    assert await store.reservations.expire_due(clock.now()) == ["rsv:r2"]
    assert (await client.get("/v1/reservations/rsv:r2")).json()["status"] == "expired"
    assert await _balances(store) == {"A": Balance(3, 0), "B": Balance(1, 0)}
    late = await client.post("/v1/reservations/rsv:r2/confirm")
    assert late.status_code == 409
    assert (await store.verify()).ok


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"lines": []}, 422),
        ({"lines": [{"sku": "A", "location": "wh1", "quantity": 0}]}, 422),
        ({"lines": [{"sku": "Z", "location": "wh1", "quantity": 1}]}, 422),
        ({"lines": [{"sku": "A", "location": "wh1", "quantity": 1}], "ttl_s": 0}, 422),
        ({"lines": [{"sku": "A", "location": "wh1"}]}, 422),
    ],
)
async def test_bad_reservations_are_refused(
    store: Store, client: httpx.AsyncClient, body: dict[str, object], status: int
) -> None:
    response = await client.post("/v1/reservations", json=body, headers={"Idempotency-Key": "b"})
    assert response.status_code == status, response.text
    assert await _balances(store) == {"A": Balance(3, 0), "B": Balance(1, 0)}


async def test_same_key_other_lines_is_a_conflict(client: httpx.AsyncClient) -> None:
    await client.post("/v1/reservations", json=TWO_LINES, headers={"Idempotency-Key": "k"})
    other = {**TWO_LINES, "ttl_s": 60}
    response = await client.post("/v1/reservations", json=other, headers={"Idempotency-Key": "k"})
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_conflict"
    unknown = await client.get("/v1/reservations/rsv:nope")
    assert unknown.status_code == 404


async def test_expiry_never_releases_a_confirmed_reservation(
    store: Store, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await client.post("/v1/reservations", json=TWO_LINES, headers={"Idempotency-Key": "x"})
    await client.post("/v1/reservations/rsv:x/confirm")
    clock.advance(timedelta(hours=1))
    assert await store.reservations.expire_due(clock.now()) == []
    assert await _balances(store) == {"A": Balance(3, 2), "B": Balance(1, 1)}


async def test_a_release_interrupted_by_a_crash_is_finished_by_the_sweep(
    store: Store, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await client.post("/v1/reservations", json=TWO_LINES, headers={"Idempotency-Key": "c"})
    # The claim committed, then the process died before the release events were written.
    await store._worker.call(
        store._db.run, "UPDATE reservations SET status = 'releasing' WHERE id = 'rsv:c'"
    )
    assert await store.reservations.expire_due(clock.now()) == ["rsv:c"]
    assert (await store.reservations.get("rsv:c")).status.value == "released"  # type: ignore[union-attr]
    assert await _balances(store) == {"A": Balance(3, 0), "B": Balance(1, 0)}
    assert await store.reservations.expire_due(clock.now()) == []
