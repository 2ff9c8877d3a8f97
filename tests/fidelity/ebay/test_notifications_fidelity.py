"""Notification registration checked against eBay's Notification API contract: every call the
adapter makes (config, destinations through the challenge, subscriptions, removal) is one
of the spec's operations, well formed, with a token of its scope, answered as eBay does."""

from __future__ import annotations

import httpx

from omnistock.adapters.base import AnswersChallenges
from omnistock.adapters.ebay import EbaySettings, create_adapter
from omnistock.adapters.secrets import Secret
from omnistock.clock import ManualTimer
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.ebay import EbayConfig, EbaySandbox
from tests.fidelity.ebay.contracts import check
from tests.fidelity.ebay.recording import RecordingTransport

ENDPOINT = "https://omnistock.example/webhooks/ebay-1"


async def test_registration_matches_the_notification_contract() -> None:
    answering: list[AnswersChallenges] = []

    async def engine(request: httpx.Request) -> httpx.Response:  # the engine's GET route
        code = request.url.params["challenge_code"]
        return httpx.Response(200, json=answering[0].answer_challenge(code))

    async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as hooks:
        harness = EbaySandbox(EbayConfig(), clock=ManualClock(), webhook_client=hooks)
        recorder = RecordingTransport(httpx.ASGITransport(app=harness.app))
        settings = EbaySettings(
            base_url=harness.base_url, alert_email="ops@example.com", notification_endpoint=ENDPOINT
        )
        creds = {k: Secret(v) for k, v in harness.credentials().items()}
        adapter = create_adapter(
            AccountId("ebay-1"), settings, creds, timer=ManualTimer(), transport=recorder
        )
        answering.append(adapter)
        made = await adapter.register_notifications(ENDPOINT)
        kept = await adapter.register_notifications(ENDPOINT)
        gone = await adapter.remove_notifications(ENDPOINT)
        await adapter.aclose()
    assert [s.topic for s in made.created] == ["ORDER_CONFIRMATION"]
    assert kept.kept == made.created
    assert gone.removed == made.created
    assert harness.notifications.destinations == {}  # omnistock's, once unused
    report = check(recorder.exchanges)
    report.assert_clean()
    assert report.operations >= {
        "GET /commerce/notification/v1/config",
        "PUT /commerce/notification/v1/config",
        "GET /commerce/notification/v1/destination",
        "POST /commerce/notification/v1/destination",
        "DELETE /commerce/notification/v1/destination/{destination_id}",
        "GET /commerce/notification/v1/subscription",
        "POST /commerce/notification/v1/subscription",
        "DELETE /commerce/notification/v1/subscription/{subscription_id}",
    }
