"""An eBay sandbox reached through a recording transport, a raw client for it, and the
contract checker that every recorded exchange goes through."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from omnistock.kit.sandbox.ebay import EbaySandbox
from tests.fidelity.ebay.contracts import EbayContracts, Report, load_contracts
from tests.fidelity.ebay.recording import RecordingTransport

TOKEN = "/identity/v1/oauth2/token"  # noqa: S105 - a path
INV = "/sell/inventory/v1"
FUL = "/sell/fulfillment/v1"
NOTE = "/commerce/notification/v1"
ANALYTICS = "/developer/analytics/v1_beta"
APP_SCOPE = "https://api.ebay.com/oauth/api_scope"
USER_SCOPES = " ".join(
    f"https://api.ebay.com/oauth/api_scope/{s}"
    for s in ("sell.inventory", "sell.fulfillment", "commerce.notification.subscription")
)


@dataclass
class Recorded:
    """A harness, a raw client on it through `recorder`, and one checker for the session
    (it learns token scopes from the grants it sees)."""

    harness: EbaySandbox
    http: httpx.AsyncClient
    recorder: RecordingTransport
    contracts: EbayContracts

    async def token(self, grant: str = "refresh_token") -> str:
        creds = self.harness.credentials()
        basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode())
        form = {"grant_type": grant, "scope": APP_SCOPE}
        if grant == "refresh_token":
            form |= {"refresh_token": creds["refresh_token"], "scope": USER_SCOPES}
        answer = await self.http.post(
            TOKEN, data=form, headers={"Authorization": f"Basic {basic.decode()}"}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    async def as_user(self) -> None:
        self.http.headers["Authorization"] = f"Bearer {await self.token()}"

    def check(self, *, invalid_requests: bool = False) -> Report:
        """Check (and forget) what was recorded since the last check; assert it is clean."""
        report = self.contracts.check(self.recorder.take(), invalid_requests=invalid_requests)
        report.assert_clean()
        return report


@pytest.fixture
async def recorded() -> AsyncIterator[Recorded]:
    load_contracts()  # skips here, before the sandbox starts, when the specs are absent
    harness = EbaySandbox.on_manual_clock(write_hold_s=0.02)
    recorder = RecordingTransport(httpx.ASGITransport(app=harness.app))
    async with (
        harness.running(),
        httpx.AsyncClient(transport=recorder, base_url=harness.api_url()) as http,
    ):
        yield Recorded(harness, http, recorder, EbayContracts())
