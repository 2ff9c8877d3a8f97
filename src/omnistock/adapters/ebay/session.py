"""The HTTP side of one eBay account: user and application tokens (OAuth, Basic client
auth), one daily-quota limiter per API, error classification, quota resynchronisation."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from omnistock.adapters.ebay import wire
from omnistock.adapters.ebay.limits import (
    FULFILLMENT_QUOTA,
    FULFILLMENT_RESOURCE,
    INVENTORY_QUOTA,
    INVENTORY_RESOURCE,
    quota_signal,
    quota_states,
    refusal_signal,
)
from omnistock.adapters.http import (
    json_body,
    retry_after_seconds,
    send,
    token_answer,
    translate_transport_error,
    translated_transport_errors,
)
from omnistock.adapters.ratelimit import DailyQuotaLimiter
from omnistock.adapters.secrets import Secret
from omnistock.adapters.tokens import AccessToken, TokenCache
from omnistock.clock import Timer
from omnistock.domain.errors import AuthFailedError, PermanentError, RateLimitedError
from omnistock.domain.ids import AccountId

logger = logging.getLogger(__name__)
NOTIFICATION_RESOURCE = "commerce.notification"
POST_ORDER_RESOURCE = "sell.post-order"
QUOTA_CHECK_EVERY = 900.0  # seconds between rate_limit reads while a quota runs low
LOW_SHARE = 0.2  # a quota counts as low below this share of its limit


class EbaySession:
    """Sends one call at a time through the API's limiter with the right token."""

    def __init__(
        self,
        account: AccountId,
        client: httpx.AsyncClient,
        *,
        client_id: Secret,
        client_secret: Secret,
        refresh_token: Secret,
        timer: Timer,
    ) -> None:
        self.account = account
        self.client = client
        self._basic = Secret(
            base64.b64encode(f"{client_id.reveal()}:{client_secret.reveal()}".encode()).decode()
        )
        self._refresh = refresh_token
        self._timer = timer
        self.user_tokens = TokenCache(self._fetch_user_token, timer)
        self.app_tokens = TokenCache(self._fetch_app_token, timer)
        # Subscriptions to user topics (ORDER_CONFIRMATION) take a user token of this scope.
        self.notification_tokens = TokenCache(self._fetch_notification_token, timer)
        # The limiter keeps its capacity to itself; ours follows the rate_limit report.
        self.capacity: dict[str, float] = {
            INVENTORY_RESOURCE: INVENTORY_QUOTA,
            FULFILLMENT_RESOURCE: FULFILLMENT_QUOTA,
            NOTIFICATION_RESOURCE: 10_000,
            POST_ORDER_RESOURCE: 10_000,
        }
        self.limiters = {
            name: DailyQuotaLimiter(int(calls), timer) for name, calls in self.capacity.items()
        }
        self._quota_read_at: float | None = None

    async def call(
        self,
        method: str,
        path: str,
        *,
        resource: str,
        json: object = None,
        params: Mapping[str, str] | None = None,
        application: bool = False,
        notification: bool = False,
        scheme: str = "Bearer",
    ) -> object:
        """The answer's JSON body (None when empty); raises the ChannelError it means.
        The token: the application's, a user token for subscriptions (`notification`), or
        the user token of the Sell APIs."""
        tokens = self.app_tokens if application else self.user_tokens
        if notification:
            tokens = self.notification_tokens
        token = await tokens.token()
        limiter = self.limiters[resource]
        await self._check_quota_if_low(resource)
        response, _ = await send(
            self.client,
            limiter,
            method,
            path,
            account=self.account,
            signal_of=lambda r: refusal_signal(r.status_code, r.headers),
            json=json,
            params=dict(params or {}),
            headers=_headers(token, scheme, json),
        )
        body = json_body(response)
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        error = wire.call_error(response.status_code, body, retry_after, account=self.account)
        if isinstance(error, AuthFailedError) and response.status_code == 401:
            tokens.invalidate(token)  # the next call fetches a fresh one
        if isinstance(error, RateLimitedError) and retry_after is None:
            error.retry_after = await self._quota_reset(resource)
        if error is not None:
            raise error
        return body

    # --- quotas -----------------------------------------------------------------------

    async def read_quotas(self) -> None:
        """Resync every limiter from the Analytics rate_limit report (application token)."""
        self._quota_read_at = self._timer.monotonic()
        token = await self.app_tokens.token()
        with translated_transport_errors(self.account):
            response = await self.client.get(
                wire.RATE_LIMIT,
                params={"api_context": "sell"},
                headers=_headers(token, "Bearer", None),
            )
        body = json_body(response)
        error = wire.call_error(response.status_code, body, None, account=self.account)
        if error is not None:
            raise error
        for name, state in quota_states(body, _server_now(response)).items():
            limiter = self.limiters.get(name)
            if limiter is not None:
                self.capacity[name] = state.limit
                limiter.observe(quota_signal(state))

    async def _check_quota_if_low(self, resource: str) -> None:
        """While a quota looks low, confirm it from the report now and then, so that the
        spreading works from eBay's count rather than ours alone."""
        low = self.limiters[resource].remaining < LOW_SHARE * self.capacity[resource]
        last = self._quota_read_at
        if low and (last is None or self._timer.monotonic() - last >= QUOTA_CHECK_EVERY):
            try:
                await self.read_quotas()
            except (PermanentError, RateLimitedError) as exc:
                logger.info("rate_limit report unavailable: %s", exc)

    async def _quota_reset(self, resource: str) -> float | None:
        """After a 429 without Retry-After (the day's quota is spent): when it resets."""
        try:
            await self.read_quotas()
        except (PermanentError, RateLimitedError) as exc:
            logger.info("rate_limit report unavailable: %s", exc)
            return None
        delay = self.limiters[resource].delay()
        return delay if delay > 0 else None

    # --- tokens -----------------------------------------------------------------------

    async def _fetch_user_token(self) -> AccessToken:
        """refresh_token grant: a 2-hour user access token (eBay keeps the refresh token)."""
        return await self._grant(
            {
                "grant_type": "refresh_token",
                "refresh_token": self._refresh.reveal(),
                "scope": wire.USER_SCOPES,
            }
        )

    async def _fetch_notification_token(self) -> AccessToken:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh.reveal(),
            "scope": wire.NOTIFICATION_SCOPE,
        }
        return await self._grant(form)

    async def _fetch_app_token(self) -> AccessToken:
        """client_credentials grant: for rate_limit and getPublicKey."""
        return await self._grant({"grant_type": "client_credentials", "scope": wire.APP_SCOPE})

    async def _grant(self, form: Mapping[str, str]) -> AccessToken:
        headers = {"Authorization": f"Basic {self._basic.reveal()}"}
        try:
            response = await self.client.post(wire.TOKEN_PATH, data=dict(form), headers=headers)
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, account=self.account) from None
        body = json_body(response)
        if response.status_code != 200:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            raise wire.token_error(response.status_code, body, retry_after, account=self.account)
        return token_answer(body, account=self.account, timer=self._timer)


def _headers(token: Secret, scheme: str, body: object) -> dict[str, str]:
    headers = {"Authorization": f"{scheme} {token.reveal()}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Language"] = "en-US"  # required by the Inventory API's writes
    return headers


def _server_now(response: httpx.Response) -> datetime:
    """The server's Date (quota resets are server times), else our clock."""
    date = response.headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC)
