"""The webhook route for platforms that prove the endpoint first and sign with keys fetched
by id (eBay): the challenge answered at `GET /webhooks/{account}`, and a signed
notification verified after its key is fetched — against the eBay sandbox."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from omnistock.adapters.base import ChannelAdapter
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.clock import SystemTimer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.ids import AccountId
from omnistock.ingest.webhooks import webhook_app
from omnistock.kit.merchant import LateApp
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.ebay import EbaySandbox
from omnistock.ledger.store import Store

ENGINE = "http://omnistock.test"
ACCOUNT = AccountId("ebay-1")
ENDPOINT = f"{ENGINE}/webhooks/{ACCOUNT}"
TOKEN = "vt_" + "7" * 40


@dataclass
class Rig:
    sandbox: EbaySandbox
    store: Store
    engine: httpx.AsyncClient


def _adapter(sandbox: EbaySandbox, **extra: str) -> ChannelAdapter:
    creds = {k: Secret(v) for k, v in sandbox.connection().credentials.items()}
    creds.update({k: Secret(v) for k, v in extra.items()})
    return PLATFORMS["ebay"].create_adapter(
        ACCOUNT,
        AccountSettings(base_url=sandbox.base_url),
        creds,
        timer=SystemTimer(),
        transport=httpx.ASGITransport(app=sandbox.app),
    )


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    store = await Store.open(f"sqlite:///{tmp_path / 'hooks.db'}")
    late = LateApp()  # the sandbox needs the engine's client before the adapters exist
    engine = httpx.AsyncClient(transport=httpx.ASGITransport(app=late), base_url=ENGINE)
    sandbox = EbaySandbox.from_options(
        SandboxOptions(base_url="https://api.ebay.test", skus=3, webhook_client=engine)
    )
    adapter = _adapter(sandbox, verification_token=TOKEN, endpoint=ENDPOINT)
    bare = _adapter(sandbox)  # no challenge credentials
    late.app = webhook_app({ACCOUNT: adapter, AccountId("ebay-bare"): bare}, store.inbox)
    try:
        yield Rig(sandbox, store, engine)
    finally:
        await adapter.aclose()
        await bare.aclose()
        await engine.aclose()
        await store.close()


async def test_the_challenge_is_answered_so_the_platform_accepts_the_endpoint(rig: Rig) -> None:
    got = await rig.engine.get(f"/webhooks/{ACCOUNT}", params={"challenge_code": "abc123"})
    assert got.status_code == 200
    expected = hashlib.sha256(f"abc123{TOKEN}{ENDPOINT}".encode()).hexdigest()
    assert got.json() == {"challengeResponse": expected}
    # The sandbox runs eBay's own check against the route and accepts it.
    assert await rig.sandbox.notifications._challenge(ENDPOINT, TOKEN)


async def test_a_bad_or_unanswerable_challenge_gets_a_clear_error(rig: Rig) -> None:
    missing = await rig.engine.get(f"/webhooks/{ACCOUNT}")
    assert missing.status_code == 400
    assert "challenge_code" in missing.json()["error"]
    too_long = await rig.engine.get(f"/webhooks/{ACCOUNT}", params={"challenge_code": "x" * 300})
    assert too_long.status_code == 400
    unknown = await rig.engine.get("/webhooks/nobody", params={"challenge_code": "a"})
    assert unknown.status_code == 404
    unset = await rig.engine.get("/webhooks/ebay-bare", params={"challenge_code": "a"})
    assert unset.status_code == 503
    assert "verification_token" in unset.json()["error"]


async def test_a_signed_notification_is_verified_with_the_fetched_key(rig: Rig) -> None:
    await rig.sandbox.connect(ENDPOINT)
    [listing, *_] = rig.sandbox.listings()
    async with rig.sandbox.running():
        rig.sandbox.core.shop.place_order([OrderLine(sku=listing.sku, quantity=1)])
        async with asyncio.timeout(10):
            while not (await rig.store.inbox.counts()).pending:  # noqa: ASYNC110 - sandbox delivers
                await asyncio.sleep(0.02)
    [item] = await rig.store.inbox.take(10)
    assert ACCOUNT in item.payload
