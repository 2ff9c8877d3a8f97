"""Injected faults and the call log, seen through the WooCommerce sandbox's HTTP surface.

Windows run on the manual clock, so a "60-second storm" takes no real time.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.kit.sandbox.common.middleware import SandboxConnectionResetError
from omnistock.kit.sandbox.woocommerce import WooSandbox


async def test_next_response_gives_one_429_with_retry_after(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    sandbox.faults.next_response(status=429, retry_after_s=2)
    limited, fine = await http.get("/products"), await http.get("/products")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert limited.headers["content-type"].startswith("text/html")
    assert fine.status_code == 200


async def test_storm_set_through_admin_ends_with_its_window(
    http: httpx.AsyncClient, anon: httpx.AsyncClient, clock: ManualClock
) -> None:
    put = await anon.put(
        "/_sandbox/faults", json={"storm_429": {"duration_s": 60, "retry_after_s": 5}}
    )
    assert put.status_code == 200
    during = await http.get("/orders")
    clock.advance(61)
    after = await http.get("/orders")
    assert (during.status_code, during.headers["Retry-After"], after.status_code) == (429, "5", 200)


async def test_error_rates_and_outage(
    http: httpx.AsyncClient, sandbox: WooSandbox, clock: ManualClock
) -> None:
    sandbox.faults.apply(FaultSettings(error_rates={500: 0.5}))
    statuses = {(await http.get("/products")).status_code for _ in range(40)}
    assert statuses == {200, 500}
    sandbox.faults.apply(FaultSettings.model_validate({"outage": {"duration_s": 30}}))
    assert (await http.get("/products")).status_code == 503
    clock.advance(30)
    assert (await http.get("/products")).status_code == 200


async def test_reset_outage_cuts_the_connection(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    sandbox.faults.apply(
        FaultSettings.model_validate({"outage": {"duration_s": 5, "mode": "reset"}})
    )
    with pytest.raises(SandboxConnectionResetError):
        await http.get("/products")


async def test_timeouts_hang_then_still_do_the_work(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    pid = next(p.id for p in sandbox.store.products.values() if p.type == "simple")
    sandbox.faults.apply(FaultSettings(timeout_rate=1.0, hang_s=0.2))
    write = http.put(f"/products/{pid}", json={"stock_quantity": 77})
    # In-process there is no socket timeout, so the client's deadline is asyncio's.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(write, timeout=0.02)
    sandbox.faults.apply(FaultSettings(timeout_rate=1.0, hang_s=0.02))
    late = await http.put(f"/products/{pid}", json={"stock_quantity": 78})
    assert (late.status_code, sandbox.store.products[pid].stock_quantity) == (200, 78)


async def test_small_host_capacity_refuses_excess_concurrency(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    sandbox.faults.apply(FaultSettings(max_in_flight=2, latency_ms=50, capacity_status=429))
    responses = await asyncio.gather(*(http.get("/products") for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429, 429]
    assert all(r.headers["Retry-After"] == "1" for r in responses if r.status_code == 429)


async def test_every_call_is_recorded(
    http: httpx.AsyncClient, anon: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    pid = next(iter(sandbox.store.products))
    await http.get("/products", params={"per_page": 3})
    await http.post("/products/batch", json={"update": [{"id": pid, "stock_quantity": 1}] * 4})
    sandbox.faults.next_response(status=503)
    await http.get(f"/products/{pid}")
    calls = (await anon.get("/_sandbox/calls")).json()
    summary = [(c["operation"], c["items"], c["status"], c["faulted"]) for c in calls["calls"]]
    assert summary == [
        ("products.list", 3, 200, False),
        ("products.batch", 4, 200, False),
        ("products.get", 0, 503, True),
    ]
    assert sandbox.core.calls.count("products.batch") == 1
    assert (await anon.delete("/_sandbox/calls")).status_code == 204
    assert sandbox.core.calls.count() == 0


async def test_admin_rejects_bad_documents(anon: httpx.AsyncClient) -> None:
    assert (await anon.put("/_sandbox/faults", json={"timeout_rate": 3})).status_code == 400
    assert (await anon.put("/_sandbox/truth", json={"A": "x"})).status_code == 400
    assert (await anon.put("/_sandbox/shoppers", json={"rate": -1})).status_code == 400
    started = await anon.post("/_sandbox/shoppers/start", json={"rate": 2.5})
    stopped = await anon.post("/_sandbox/shoppers/stop")
    assert (started.json(), stopped.json()) == ({"rate": 2.5}, {"rate": 0.0})
