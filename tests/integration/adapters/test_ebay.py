"""What only eBay does: it proves a notification endpoint with a challenge before sending
to it, and the adapter built from the account's credentials answers it."""

from __future__ import annotations

import httpx
import pytest

from omnistock.adapters.base import AnswersChallenges
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import ConfigError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.ebay import EbaySandbox

API = AccountSettings(base_url="https://api.ebay.test")


async def test_the_challenge_is_answered_with_the_accounts_endpoint_and_token() -> None:
    """eBay's createDestination sends `GET endpoint?challenge_code=…`; the adapter built
    from the account's credentials answers it, and only with the registered endpoint."""
    endpoint = "https://omnistock.example/webhooks/ebay-main"
    harness = EbaySandbox.on_manual_clock()
    creds = {
        **{k: Secret(v) for k, v in harness.credentials().items()},
        "verification_token": Secret("v" * 40),
        "endpoint": Secret(endpoint),
    }
    adapter = PLATFORMS["ebay"].create_adapter(
        AccountId("ebay-main"),
        AccountSettings(base_url="https://api.ebay.test"),
        creds,
        timer=harness.timer,
    )
    assert isinstance(adapter, AnswersChallenges)

    async def engine(request: httpx.Request) -> httpx.Response:  # the engine's GET route
        return httpx.Response(
            200, json=adapter.answer_challenge(request.url.params["challenge_code"])
        )

    notes = harness.notifications
    async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as hooks:
        notes._client = hooks
        assert await notes._challenge(endpoint, "v" * 40)
        assert not await notes._challenge(endpoint + "/other", "v" * 40)
    without = {k: v for k, v in creds.items() if k != "endpoint"}
    bare = PLATFORMS["ebay"].create_adapter(
        AccountId("ebay-main"),
        AccountSettings(base_url="https://api.ebay.test"),
        without,
        timer=harness.timer,
    )
    assert isinstance(bare, AnswersChallenges)
    with pytest.raises(ConfigError):
        bare.answer_challenge("abc")
    await adapter.aclose()
    await bare.aclose()
