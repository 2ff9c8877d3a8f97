"""The eBay sandbox's platform rules, and the adapter's answers to them: 25025 on
overlapping writes (retried, never failed), daily quotas with the rate_limit report,
full-replace PUT, the destination challenge, and the revision limit."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.adapters.ebay import EbayAdapter, EbaySession
from omnistock.adapters.ebay.revisions import RevisionBudget
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import RateLimitedError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.ebay import EbayConfig, EbaySandbox
from omnistock.kit.sandbox.ebay.notifications import challenge_response
from omnistock.kit.sandbox.ebay.store import REVISIONS_PER_DAY


def _adapter(harness: EbaySandbox, revisions: RevisionBudget | None = None) -> EbayAdapter:
    creds = harness.credentials()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    session = EbaySession(
        AccountId("e"),
        client,
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        refresh_token=Secret(creds["refresh_token"]),
        timer=harness.timer,
    )
    return EbayAdapter(AccountId("e"), session, timer=harness.timer, revisions=revisions)


@pytest.fixture
async def user(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[EbaySandbox, httpx.AsyncClient]]:
    harness = EbaySandbox.on_manual_clock(write_hold_s=0.05, quotas={"sell.inventory": 3})
    creds = harness.credentials()
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url=harness.api_url()) as http:
        answer = await http.post(
            "/identity/v1/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": creds["refresh_token"]},
            headers={"Authorization": f"Basic {basic}"},
        )
        http.headers["Authorization"] = "Bearer " + answer.json()["access_token"]
        yield harness, http


async def test_overlapping_writes_to_one_sku_meet_25025(
    user: tuple[EbaySandbox, httpx.AsyncClient],
) -> None:
    harness, http = user
    (ref,) = await harness.seed(1)
    body = {"requests": [{"sku": ref.sku, "shipToLocationAvailability": {"quantity": 3}}]}
    path = "/sell/inventory/v1/bulk_update_price_quantity"
    first, second = await asyncio.gather(http.post(path, json=body), http.post(path, json=body))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 207]
    refused = first if first.status_code == 207 else second
    assert refused.json()["responses"][0]["errors"][0]["errorId"] == 25025


async def test_the_daily_quota_answers_429_and_the_report_shows_it(
    user: tuple[EbaySandbox, httpx.AsyncClient],
) -> None:
    harness, http = user
    for _ in range(3):
        assert (await http.get("/sell/inventory/v1/inventory_item?limit=5")).status_code == 200
    refused = await http.get("/sell/inventory/v1/inventory_item?limit=5")
    assert (refused.status_code, refused.json()["errors"][0]["errorId"]) == (429, 2001)
    report = harness.quotas.report("sell", "inventory")
    (rate,) = report["rateLimits"][0]["resources"][0]["rates"]  # type: ignore[index]
    assert (rate["limit"], rate["remaining"]) == (3, 0)


async def test_put_without_availability_wipes_the_quantity(
    user: tuple[EbaySandbox, httpx.AsyncClient],
) -> None:
    harness, http = user
    (ref,) = await harness.seed(1, quantity=9)
    path = f"/sell/inventory/v1/inventory_item/{ref.sku}"
    assert (await http.put(path, json={"product": {"title": "t"}})).status_code == 400
    put = await http.put(
        path, json={"product": {"title": "t"}}, headers={"Content-Language": "en-US"}
    )
    assert put.status_code == 204
    assert await harness.held(ref) == 0


async def test_a_destination_needs_the_challenge_answered() -> None:
    token, endpoint = "v" * 40, "https://receiver.test/ebay"
    answers: list[str] = []

    async def receiver(request: httpx.Request) -> httpx.Response:
        code = request.url.params["challenge_code"]
        answers.append(code)
        return httpx.Response(
            200, json={"challengeResponse": challenge_response(code, token, endpoint)}
        )

    harness = EbaySandbox.on_manual_clock()
    notes = harness.notifications
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as hooks:
        notes._client = hooks  # the harness's receiver does not answer challenges
        assert await notes._challenge(endpoint, token)
        assert not await notes._challenge(endpoint, "w" * 40)
    assert len(answers) == 2


async def test_the_adapter_never_writes_one_sku_twice_at_once() -> None:
    harness = EbaySandbox.on_manual_clock(write_hold_s=0.02)
    adapter = _adapter(harness)
    (ref,) = await harness.seed(1)
    pushes = [adapter.push([StockUpdate(ref=ref, quantity=q, sequence=q)]) for q in (1, 2, 3)]
    results = await asyncio.gather(*pushes)
    assert {r.status for (r,) in results} == {ItemStatus.SUCCEEDED}
    assert all(c.status == 200 for c in harness.calls() if c.write)  # no 207: no 25025
    await adapter.aclose()


async def test_25025_from_another_writer_is_retried_not_failed() -> None:
    harness = EbaySandbox.on_manual_clock()
    adapter = _adapter(harness)
    (ref,) = await harness.seed(1)
    harness.store.writing.add(ref.sku)  # another app's write holds the SKU

    async def release() -> None:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        harness.store.writing.discard(ref.sku)

    (result,), _ = await asyncio.gather(
        adapter.push([StockUpdate(ref=ref, quantity=6, sequence=1)]), release()
    )
    assert (result.status, await harness.held(ref)) == (ItemStatus.SUCCEEDED, 6)
    assert next(c.status for c in harness.calls() if c.write) == 207
    await adapter.aclose()


async def test_near_the_revision_limit_increases_are_held_and_decreases_sent() -> None:
    harness = EbaySandbox.on_manual_clock()
    adapter = _adapter(harness, RevisionBudget(limit=REVISIONS_PER_DAY, reserve=5))
    (ref,) = await harness.seed(1, quantity=500)
    for q in range(REVISIONS_PER_DAY - 5):
        (result,) = await adapter.push([StockUpdate(ref=ref, quantity=400 - q, sequence=q)])
        assert result.status is ItemStatus.SUCCEEDED
    (up,) = await adapter.push([StockUpdate(ref=ref, quantity=450, sequence=900)])
    (down,) = await adapter.push([StockUpdate(ref=ref, quantity=10, sequence=901)])
    assert (up.status, down.status) == (ItemStatus.FAILED_RETRYABLE, ItemStatus.SUCCEEDED)
    assert up.retry_after is not None
    assert up.retry_after > 0
    assert await harness.held(ref) == 10
    await adapter.aclose()


async def test_a_spent_quota_raises_rate_limited_until_the_reset() -> None:
    harness = EbaySandbox.on_manual_clock(quotas={"sell.inventory": 1})
    adapter = _adapter(harness)
    refs = await harness.seed(2)
    await adapter.push([StockUpdate(ref=refs[0], quantity=1, sequence=1)])
    with pytest.raises(RateLimitedError) as caught:
        await adapter.push([StockUpdate(ref=refs[1], quantity=1, sequence=2)])
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= 86_400
    await adapter.aclose()


async def test_the_storefront_view_connects_notifications_and_the_challenge() -> None:
    received: list[httpx.Request] = []

    async def engine(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as hooks:
        sandbox = EbaySandbox(EbayConfig(skus=3), webhook_client=hooks)
        assert "endpoint" not in sandbox.connection().credentials
        await sandbox.connect("https://engine.test/webhooks/ebay-1")
        creds = sandbox.connection().credentials
        assert creds["endpoint"] == "https://engine.test/webhooks/ebay-1"
        listings = sandbox.listings()
        assert [s.sku for s in listings] == sorted(sandbox.store.items)
        single = next(s for s in listings if "variation_id" not in s.external_ids)
        async with sandbox.running():
            sandbox.store.place_order([OrderLine(sku=single.sku, quantity=1)])
            await sandbox.notifications.sender.wait_idle()
    assert [str(r.url) for r in received] == ["https://engine.test/webhooks/ebay-1"]
    assert sandbox.shown()[single.sku] == sandbox.store.shown_quantity(single.sku)
