"""The Amazon channel adapter: the I/O around wire.py, feeds.py and events.py, one client
per account. Each SP-API operation has its own limiter, fed by x-amzn-RateLimit-Limit."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

import httpx

from omnistock.adapters.amazon import events, feeds, orders, subscriptions, wire
from omnistock.adapters.amazon.bulk import FeedPush
from omnistock.adapters.amazon.discovery import ReportDiscovery
from omnistock.adapters.amazon.limits import (
    CONFIRM_AFTER_S,
    FEED_WINDOW_S,
    FEEDS_PER_WINDOW,
    MAX_FEED_MESSAGES,
    RATES,
    Operation,
    capabilities,
    rate_signal,
)
from omnistock.adapters.amazon.settings import AmazonSettings
from omnistock.adapters.backoff import retry_transient
from omnistock.adapters.base import (
    Capabilities,
    ChannelEvent,
    ChannelEventType,
    DiscoveryPage,
    ItemResult,
    ListingRef,
    ObservedLevel,
    OrderPage,
    StockUpdate,
    SubscriptionReport,
)
from omnistock.adapters.echo import EchoFilter
from omnistock.adapters.http import (
    DEFAULT_OVERLAP,
    DEFAULT_TIMEOUT,
    account_api_root,
    account_client,
    json_body,
    send,
    token_answer,
    translate_transport_error,
)
from omnistock.adapters.ratelimit import RateLimiter, TokenBucketLimiter, limiter_for
from omnistock.adapters.secrets import Secret
from omnistock.adapters.subscribing import registered
from omnistock.adapters.tokens import AccessToken, TokenCache
from omnistock.clock import Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import AuthFailedError, ChannelError, ConfigError, PermanentError
from omnistock.domain.ids import AccountId

logger = logging.getLogger(__name__)
REGISTRATION_ATTEMPTS = 6  # a Notifications call refused for the moment, retried
# ⚠️ After searchOrders refuses the application (403/404), poll v0 this long before
# trying 2026-01-01 again (a role granted later, or a region where it is deployed).
V0_FALLBACK_S = 3600.0


class AmazonAdapter:
    """An Amazon seller account (one marketplace) behind the ChannelAdapter protocol."""

    def __init__(
        self,
        account: AccountId,
        client: httpx.AsyncClient,
        *,
        seller_id: str,
        marketplace_id: str,
        client_id: Secret,
        client_secret: Secret,
        refresh_token: Secret,
        notification_secret: Secret,
        timer: Timer,
        lwa_url: str = wire.LWA_URL,
        notification_queue: str | None = None,
        poll_start: datetime | None = None,
        overlap: timedelta = DEFAULT_OVERLAP,
        bulk_feed_from: int | None = None,
        confirm_after_s: float = CONFIRM_AFTER_S,
    ) -> None:
        self._account = account
        self._client = client
        self._seller_id = seller_id
        self._marketplace_id = marketplace_id
        self._lwa = (lwa_url, client_id, client_secret, refresh_token)
        self._timer = timer
        self._tokens = TokenCache(self._fetch_token, timer)
        self._grantless = TokenCache(self._fetch_grantless_token, timer)
        self._queue = notification_queue
        self._poll_start = poll_start or events.EPOCH
        self._overlap = overlap
        self._capabilities = capabilities(bulk_feed_from, confirm_after_s)
        self._limiters: dict[Operation, RateLimiter] = {
            op: limiter_for(rate, timer) for op, rate in RATES.items()
        }
        # JSON_LISTINGS_FEED's own cap (5 per 5 min) on top of createFeed's bucket.
        self._feed_window = TokenBucketLimiter(
            FEEDS_PER_WINDOW / FEED_WINDOW_S, FEEDS_PER_WINDOW, timer
        )
        self._echo = EchoFilter(timer)
        self._v0_until: float | None = None  # polling Orders v0 until then (monotonic)
        self._notifications = events.NotificationParser(account, notification_secret)

    def __repr__(self) -> str:
        return f"AmazonAdapter(account={self._account!r}, base_url={self._client.base_url})"

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    # --- push ----------------------------------------------------------------------------

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        """One write per distinct SKU (the last quantity named wins): patchListingsItem
        calls under the patch limiter, or JSON_LISTINGS_FEEDs from `bulk_feed_from`
        listings. One result per update, in order: ACCEPTED (Amazon applies it later; the
        dispatcher confirms it after `capabilities.confirm_after_s`) or failed, never
        SUCCEEDED. Raises the first ChannelError only if no write got through."""
        latest: dict[str, StockUpdate] = {}
        for update in updates:
            latest[wire.seller_sku(update.ref)] = update
        threshold = self._capabilities.bulk_feed_from
        if threshold is not None and len(latest) >= threshold:
            outcomes = await self._by_feeds(list(latest.values()))
        else:
            outcomes = await self._by_patches(list(latest.values()))
        return [outcomes[wire.seller_sku(u.ref)].result(u) for u in updates]

    async def _by_patches(self, writes: list[StockUpdate]) -> dict[str, wire.Outcome]:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(self._patch(u)) for u in writes]
        answers = [t.result() for t in tasks]
        errors = [a for a in answers if isinstance(a, ChannelError)]
        if errors and len(errors) == len(answers):
            raise errors[0]
        return {
            wire.seller_sku(u.ref): wire.failed_call_outcome(a)
            if isinstance(a, ChannelError)
            else a
            for u, a in zip(writes, answers, strict=True)
        }

    async def _patch(self, update: StockUpdate) -> wire.Outcome | ChannelError:
        sku = wire.seller_sku(update.ref)
        try:
            answer = await self.call(
                Operation.PATCH_LISTINGS_ITEM,
                "PATCH",
                wire.listing_path(self._seller_id, sku),
                json=wire.patch_body(update.ref, update.quantity),
                params={"marketplaceIds": self._marketplace_id},
            )
            outcome = wire.submission_outcome(answer)
        except ChannelError as error:
            return error
        except ValueError as exc:
            return PermanentError(f"unexpected answer: {exc}", account=self._account)
        if outcome is wire.ACCEPTED:
            self._echo.wrote(sku, update.quantity)
        return outcome

    async def _by_feeds(self, writes: list[StockUpdate]) -> dict[str, wire.Outcome]:
        chunks = [
            writes[i : i + MAX_FEED_MESSAGES] for i in range(0, len(writes), MAX_FEED_MESSAGES)
        ]
        outcomes: dict[str, wire.Outcome] = {}
        errors: list[ChannelError] = []
        for chunk in chunks:
            messages = [
                feeds.Message(n, wire.seller_sku(u.ref), u.ref, u.quantity)
                for n, u in enumerate(chunk, start=1)
            ]
            try:
                by_id = await FeedPush(
                    self, self._timer, self._seller_id, self._marketplace_id
                ).run(messages)
            except ChannelError as error:  # not submitted: nothing of this chunk was written
                errors.append(error)
                by_id = {m.message_id: wire.failed_call_outcome(error) for m in messages}
            for m in messages:
                outcomes[m.sku] = by_id[m.message_id]
                if by_id[m.message_id] is wire.ACCEPTED:
                    self._echo.wrote(m.sku, m.quantity)
        if len(errors) == len(chunks):
            raise errors[0]
        return outcomes

    # --- read ----------------------------------------------------------------------------

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        """The distinct SKUs by searchListingsItems (fulfillmentAvailability), 20 a call, the
        calls issued together under its limiter; a SKU holding a comma, which a search
        cannot name, by getListingsItem. One level per ref, in order: the DEFAULT quantity,
        None for a SKU Amazon does not know or one without an MFN offer. Raises the first
        ChannelError if any call failed."""
        batches, unsearchable = wire.search_batches(
            list(dict.fromkeys(wire.seller_sku(r) for r in refs))
        )
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(self._search(batch)) for batch in batches]
                tasks += [tg.create_task(self._fetch(sku)) for sku in unsearchable]
        except* ChannelError as failed:
            raise _first(failed) from None
        levels = {sku: level for t in tasks for sku, level in t.result().items()}
        return [ObservedLevel(listing=r.listing, quantity=levels[wire.seller_sku(r)]) for r in refs]

    async def _search(self, skus: list[str]) -> dict[str, int | None]:
        try:
            answer = await self.call(
                Operation.SEARCH_LISTINGS_ITEMS,
                "GET",
                wire.listings_path(self._seller_id),
                params=wire.search_query(self._marketplace_id, skus),
            )
        except PermanentError as error:
            # ⚠️ Amazon does not say when a search answers 404 (the model declares it);
            # read as getListingsItem's 404: none of these listings exists.
            if error.status == 404:
                return dict.fromkeys(skus, None)
            raise
        try:
            return wire.searched_quantities(answer, skus)
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    async def _fetch(self, sku: str) -> dict[str, int | None]:
        try:
            answer = await self.call(
                Operation.GET_LISTINGS_ITEM,
                "GET",
                wire.listing_path(self._seller_id, sku),
                params={
                    "marketplaceIds": self._marketplace_id,
                    "includedData": "fulfillmentAvailability",
                },
            )
        except PermanentError as error:
            if error.status == 404:
                return {sku: None}
            raise
        try:
            return {sku: wire.shown_quantity(answer)}
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    # --- orders --------------------------------------------------------------------------

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        """One page of orders updated since the cursor: Orders 2026-01-01 searchOrders
        (items inline), or v0 getOrders plus getOrderItems for an application that
        searchOrders refuses (403/404; retried after V0_FALLBACK_S). Either way Amazon
        keeps the last two minutes back, and the cursor resumes `overlap` before them."""
        state = (
            events.PollCursor.decode(cursor)
            if cursor
            else events.PollCursor(after=self._poll_start)
        )
        api = state.api if state.token is not None else self._orders_api()
        try:
            if api == events.V2026:
                try:
                    return await self._search_orders(state)
                except PermanentError as error:
                    if error.status not in (403, 404):
                        raise
                    self._fall_back_to_v0(error)
                    state = events.PollCursor(after=state.after)  # its token was 2026's
            return await self._get_orders(state)
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    async def discover(self, cursor: str | None) -> DiscoveryPage:
        """Every listing of the account's marketplace (see discovery.py): an account of at
        most 1,000 by searchListingsItems, 20 a call; a larger one from one
        GET_MERCHANT_LISTINGS_ALL_DATA report, requested by the first call (which answers no
        listings but a cursor naming it), waited for (getReport every 15 s) and handed out
        a thousand rows at a time. FBA listings are unmanaged. Raises ChannelError
        (TransientError while the report is still processing after 30 minutes)."""
        return await self._report_discovery.page(cursor)

    @functools.cached_property
    def _report_discovery(self) -> ReportDiscovery:
        return ReportDiscovery(
            self,
            self._timer,
            self._marketplace_id,
            self._account,
            wire.listings_path(self._seller_id),
        )

    def _orders_api(self) -> str:
        if self._v0_until is not None and self._timer.monotonic() < self._v0_until:
            return events.V0
        return events.V2026

    def _fall_back_to_v0(self, error: PermanentError) -> None:
        logger.warning(
            "%s: searchOrders refused (%s); polling Orders v0 for now", self._account, error
        )
        self._v0_until = self._timer.monotonic() + V0_FALLBACK_S

    async def _search_orders(self, state: events.PollCursor) -> OrderPage:
        body = await self.call(
            Operation.SEARCH_ORDERS,
            "GET",
            orders.SEARCH_PATH,
            params=orders.search_query(state, self._marketplace_id),
        )
        page = orders.search_page(body)
        found = [e for order in page.orders for e in orders.order_events(order, self._account)]
        after, more = events.next_cursor(state, page, self._overlap)
        return OrderPage(events=tuple(found), cursor=after.encode(), more=more)

    async def _get_orders(self, state: events.PollCursor) -> OrderPage:
        body = await self.call(
            Operation.GET_ORDERS,
            "GET",
            events.ORDERS_PATH,
            params=events.orders_query(state, self._marketplace_id),
        )
        page = events.orders_page(body)
        found: list[ChannelEvent] = []
        for order in page.orders:
            found.extend(await self._order_events(order))
        after, more = events.next_cursor(state, page, self._overlap)
        return OrderPage(events=tuple(found), cursor=after.encode(), more=more)

    async def _order_events(self, order: Mapping[str, object]) -> list[ChannelEvent]:
        status, channel = str(order.get("OrderStatus")), order.get("FulfillmentChannel")
        if not events.order_kinds(status, channel if isinstance(channel, str) else None):
            return []  # nothing to say about stock: spare the getOrderItems call
        order_id = str(order.get("AmazonOrderId"))
        body = await self.call(
            Operation.GET_ORDER_ITEMS, "GET", f"{events.ORDERS_PATH}/{order_id}/orderItems"
        )
        return events.order_events(order, events.items_of(body), self._account)

    # --- notifications, echoes, cancellation ---------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        return self._notifications.parse(headers, body)

    def is_echo(self, event: ChannelEvent) -> bool:
        if event.kind is not ChannelEventType.QUANTITY_CHANGED or event.quantity is None:
            return False
        sku = event.external_ids.get(wire.SKU)
        return sku is not None and self._echo.is_echo(sku, event.quantity)

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        """False: the SP-API gives a seller no call to cancel an MFN order (Orders v0 and
        2026-01-01 have none; the legacy order-acknowledgement feed is XML, which Amazon
        rejects since 2025-07-31). The merchant cancels in Seller Central."""
        del order_id, reason
        return False

    async def register_notifications(self, target: str) -> SubscriptionReport:
        """Destinations for the SQS queue `target` (the account's `notification_queue`) and
        the event bus of its AWS account and region, and the seller's subscription of each
        type events.py reads (see subscriptions.py). Raises ChannelError; ConfigError when
        `target` is not an SQS queue ARN."""
        return await self._registration(target, lambda s: s.register(target))

    async def remove_notifications(self, target: str) -> SubscriptionReport:
        return await self._registration(target, lambda s: s.remove(target))

    @property
    def notification_queue(self) -> str | None:
        """The account's `notification_queue` setting: what its notifications target."""
        return self._queue

    async def _registration(
        self,
        target: str,
        work: Callable[[subscriptions.AmazonSubscriptions], Awaitable[SubscriptionReport]],
    ) -> SubscriptionReport:
        try:
            subscriptions.resources(target)
        except ValueError as exc:
            raise ConfigError(f"amazon account {self._account}: {exc}") from None
        registrar = subscriptions.AmazonSubscriptions(call=self._patient, account=self._account)
        return await registered(work(registrar), account=self._account)

    async def _patient(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        json: object = None,
        grantless: bool = False,
    ) -> object:
        """A Notifications call, retried when refused for the moment: the API allows one
        call a second, and a one-off registration has no dispatcher to retry it."""
        return await retry_transient(
            lambda: self.call(operation, method, path, json=json, grantless=grantless),
            attempts=REGISTRATION_ATTEMPTS,
            timer=self._timer,
            rng=random.Random(),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- HTTP ----------------------------------------------------------------------------

    async def call(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        json: object = None,
        params: dict[str, str] | None = None,
        grantless: bool = False,
    ) -> object:
        """One SP-API call under its operation's limiter, with the seller's token (or, for a
        grantless operation, the application's); a token Amazon calls expired is renewed
        and the call sent once more. A non-2xx answer raises its ChannelError."""
        tokens = self._grantless if grantless else self._tokens
        for attempt in (1, 2):
            token = await tokens.token()
            response = await self._send(operation, method, path, token, json=json, params=params)
            if response.is_success:
                return json_body(response)
            error = wire.api_error(response.content)
            if response.status_code in (401, 403):
                tokens.invalidate(token)
                if attempt == 1 and wire.expired_token(error):
                    continue
            raise self._error(operation, response)
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _send(
        self,
        operation: Operation,
        method: str,
        path: str,
        token: Secret,
        *,
        json: object,
        params: dict[str, str] | None,
    ) -> httpx.Response:
        if operation is Operation.CREATE_FEED:
            await _take(self._feed_window)
        response, _ = await send(
            self._client,
            self._limiters[operation],
            method,
            path,
            account=self._account,
            signal_of=lambda r: rate_signal(r.status_code, r.headers),
            json=json,
            params=params,
            headers={"x-amz-access-token": token.reveal()},
        )
        return response

    def _error(self, operation: Operation, response: httpx.Response) -> ChannelError:
        signal = rate_signal(response.status_code, response.headers)
        retry_after = signal.retry_after if signal else None
        if response.status_code == 429 and retry_after is None:
            # SP-API sends no Retry-After: wait until the drained bucket refills one token.
            retry_after = max(self._limiters[operation].delay(), 1 / RATES[operation].per_s)
        return wire.call_error(
            response.status_code, response.content, retry_after, account=self._account
        )

    async def transfer(self, method: str, url: str, content: bytes | None = None) -> bytes:
        headers = {"content-type": wire.FEED_CONTENT_TYPE} if content is not None else {}
        try:
            response = await self._client.request(method, url, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, account=self._account) from None
        if not response.is_success:
            raise wire.call_error(
                response.status_code, response.content, None, account=self._account
            )
        return response.content

    async def _fetch_token(self) -> AccessToken:
        """LWA refresh_token grant: 1-hour access tokens, renewed early by the cache."""
        _, client_id, client_secret, refresh_token = self._lwa
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.reveal(),
            "client_id": client_id.reveal(),
            "client_secret": client_secret.reveal(),
        }
        return await self._grant(form)

    async def _fetch_grantless_token(self) -> AccessToken:
        """LWA client_credentials grant for the grantless Notifications operations."""
        _, client_id, client_secret, _ = self._lwa
        form = {
            "grant_type": "client_credentials",
            "scope": wire.NOTIFICATIONS_SCOPE,
            "client_id": client_id.reveal(),
            "client_secret": client_secret.reveal(),
        }
        return await self._grant(form)

    async def _grant(self, form: Mapping[str, str]) -> AccessToken:
        url = self._lwa[0]
        try:
            response = await self._client.post(url, data=dict(form))
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, account=self._account) from None
        if not response.is_success:
            error = self._error(Operation.GET_LISTINGS_ITEM, response)
            if response.status_code == 400 and not isinstance(error, AuthFailedError):
                error = AuthFailedError("LWA refused the grant", account=self._account, status=400)
            raise error
        return token_answer(json_body(response), account=self._account, timer=self._timer)


async def _take(limiter: RateLimiter) -> None:
    async with limiter.slot():
        pass


def _first(group: BaseExceptionGroup[ChannelError]) -> ChannelError:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


# The secrets an account needs, by the platform's names (the registry lists them).
CREDENTIALS = (
    "seller_id",
    "client_id",
    "client_secret",
    "refresh_token",
    "notification_secret",
)


def create_adapter(
    account: AccountId,
    settings: AccountSettings,
    credentials: Mapping[str, Secret],
    *,
    timer: Timer,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> AmazonAdapter:
    """The registry's factory. The `base_url` setting: the region's SP-API host, e.g.
    https://sellingpartnerapi-na.amazon.com; the `marketplace_id` setting (default US).
    Credentials: seller_id, client_id, client_secret, refresh_token and
    notification_secret (the bridge's signing key). Raises ConfigError when one is
    missing."""
    base_url = account_api_root("amazon", account, settings, credentials, CREDENTIALS)
    return AmazonAdapter(
        account,
        account_client(base_url.rstrip("/"), transport=transport, timeout=timeout),
        seller_id=credentials["seller_id"].reveal(),
        marketplace_id=settings.as_model(AmazonSettings).marketplace_id,
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        refresh_token=credentials["refresh_token"],
        notification_secret=credentials["notification_secret"],
        timer=timer,
        lwa_url=wire.lwa_url(base_url),
        notification_queue=settings.as_model(AmazonSettings).notification_queue,
    )
