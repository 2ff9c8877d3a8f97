"""The WooCommerce channel adapter: the I/O around wire.py, through one client per account.

Every request goes through the account's limiter; httpx failures become TransientError here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import httpx

from omnistock.adapters.base import (
    Capabilities,
    ChannelEvent,
    ChannelEventType,
    DiscoveryPage,
    ItemResult,
    ItemStatus,
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
    send,
)
from omnistock.adapters.ratelimit import RateLimiter, limiter_for
from omnistock.adapters.secrets import Secret
from omnistock.adapters.subscribing import registered
from omnistock.adapters.woocommerce import discovery, events, subscriptions, wire
from omnistock.adapters.woocommerce.limits import CAPABILITIES, rate_signal
from omnistock.clock import Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import (
    ChannelError,
    PermanentError,
    TransientError,
)
from omnistock.domain.ids import AccountId

logger = logging.getLogger(__name__)

# Re-read this much before the orders high-water mark: WordPress dates have one-second
# resolution, and a slow request can commit an order with an older date after we looked.

Json = object
T = TypeVar("T")


class WooCommerceAdapter:
    """A WooCommerce site behind the ChannelAdapter protocol (REST API v3, Basic auth)."""

    def __init__(
        self,
        account: AccountId,
        client: httpx.AsyncClient,
        *,
        consumer_key: Secret,
        consumer_secret: Secret,
        webhook_secret: Secret,
        timer: Timer,
        poll_start: datetime | None = None,
        overlap: timedelta = DEFAULT_OVERLAP,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._account = account
        self._client = client
        self._key = consumer_key
        self._secret = consumer_secret
        self._timer = timer
        self._poll_start = poll_start or events.EPOCH
        self._overlap = overlap
        self._limiter = limiter or limiter_for(CAPABILITIES.rate, timer)
        self._echo = EchoFilter(timer)
        self._webhooks = events.WebhookParser(account, webhook_secret)
        self._hook_secret = webhook_secret

    def __repr__(self) -> str:
        return f"WooCommerceAdapter(account={self._account!r}, base_url={self._client.base_url})"

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    @property
    def limiter(self) -> RateLimiter:
        """The account's request limiter (a dispatcher given it paces its passes by it)."""
        return self._limiter

    def write_group(self, ref: ListingRef) -> str:
        """Simple products share `products/batch`; a product's variations have their own."""
        target = wire.target_of(ref)
        return "" if target is None else target.collection

    # --- push ----------------------------------------------------------------------------

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        """Set absolute quantities through the batch endpoints, calls running concurrently
        under the limiter. One result per update, in order; raises the first ChannelError
        only when every call failed. Nothing is re-sent inside one push."""
        plan = wire.plan_push(updates, CAPABILITIES.max_batch)
        outcomes = dict.fromkeys(plan.unaddressable, wire.UNADDRESSABLE)
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(self._send_batch(call)) for call in plan.calls]
        answers = [task.result() for task in tasks]
        errors = [a for a in answers if isinstance(a, ChannelError)]
        if errors and len(errors) == len(answers):
            raise errors[0]
        for call, answer in zip(plan.calls, answers, strict=True):
            for write, outcome in zip(call.writes, self._outcomes(call, answer), strict=True):
                outcomes.update(dict.fromkeys(write.indexes, outcome))
        return [outcomes[i].result(update) for i, update in enumerate(updates)]

    def _outcomes(
        self, call: wire.BatchCall, answer: tuple[wire.Outcome, ...] | ChannelError
    ) -> tuple[wire.Outcome, ...]:
        if isinstance(answer, ChannelError):
            return (wire.failed_call_outcome(answer),) * len(call.writes)
        return answer

    async def _send_batch(self, call: wire.BatchCall) -> tuple[wire.Outcome, ...] | ChannelError:
        try:
            payload = await self._call("POST", call.path, json=call.body())
            outcomes = wire.batch_outcomes(call, payload)
        except ChannelError as error:
            logger.info("batch %s of %d failed: %s", call.path, len(call.writes), error)
            return error
        except ValueError:
            # The writes may have been applied; re-sending absolute quantities is safe.
            return TransientError("unreadable batch response", account=self._account)
        for write, outcome in zip(call.writes, outcomes, strict=True):
            if outcome.status is ItemStatus.SUCCEEDED:
                self._echo.wrote(write.target.key, write.quantity)
        return outcomes

    # --- read ----------------------------------------------------------------------------

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        """Current stock_quantity per ref via `include=` listings (≤100 ids a call); None
        for a missing item or unmanaged stock. Raises ChannelError if any call fails."""
        targets = [wire.target_of(ref) for ref in refs]
        calls = wire.plan_read(targets)
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(self._read_call(call)) for call in calls]
        except* ChannelError as failed:
            # The protocol promises a ChannelError, not the TaskGroup's ExceptionGroup.
            raise _first(failed) from None
        found: dict[tuple[str, int], int | None] = {}
        for task in tasks:
            found.update(task.result())
        return wire.observed_levels(refs, targets, found)

    async def _read_call(self, call: wire.ReadCall) -> dict[tuple[str, int], int | None]:
        try:
            payload = await self._call("GET", call.collection, params=call.params())
        except PermanentError as error:
            if error.status == 404 and call.collection != "products":
                return {}  # the parent product is gone, so are its variations
            raise
        return self._parsed(wire.shown_levels, call, payload)

    # --- orders --------------------------------------------------------------------------

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        """One page of orders changed since `cursor` (see events.PollCursor for the scheme)."""
        state = (
            events.PollCursor.decode(cursor)
            if cursor
            else events.PollCursor(after=self._poll_start)
        )
        response = await self._send("GET", "orders", params=events.orders_query(state))
        orders = self._parsed(events.parse_orders, self._json(response))
        modified = [events.parse_gmt(order.date_modified_gmt) for order in orders]
        after, more = events.next_cursor(state, modified, _total_pages(response), self._overlap)
        found = tuple(e for order in orders for e in events.order_events(order, self._account))
        return OrderPage(events=found, cursor=after.encode(), more=more)

    async def discover(self, cursor: str | None) -> DiscoveryPage:
        """Every product and variation, one REST page a call (see discovery.py), through
        the limiter. Raises ChannelError; PermanentError for a cursor it did not issue."""
        try:
            return await discovery.discover_page(self._discovery_fetch, cursor)
        except discovery.InvalidCursorError as exc:
            raise PermanentError(f"discovery cursor: {exc}", account=self._account) from None
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    async def _discovery_fetch(
        self, path: str, params: Mapping[str, str]
    ) -> tuple[Json, int | None, int | None]:
        response = await self._send("GET", path, params=params)
        headers = response.headers
        return (
            self._json(response),
            _count(headers, "x-wp-total"),
            _count(headers, "x-wp-totalpages"),
        )

    # --- webhooks ------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        return self._webhooks.parse(headers, body)

    def is_echo(self, event: ChannelEvent) -> bool:
        if event.kind is not ChannelEventType.QUANTITY_CHANGED or event.quantity is None:
            return False
        key = event.external_ids.get(wire.VARIATION_ID) or event.external_ids.get(wire.PRODUCT_ID)
        return key is not None and self._echo.is_echo(key, event.quantity)

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        """`PUT orders/{id}` with status `cancelled`: WooCommerce restores the stock the
        order took and sends order.updated. A seller can cancel any order, so never False.
        (`reason` reaches the merchant through the order.oversold notification.)"""
        del reason
        if not order_id.isdigit():
            raise PermanentError(f"not a WooCommerce order id: {order_id!r}", account=self._account)
        await self._call("PUT", f"orders/{order_id}", json={"status": "cancelled"})
        return True

    async def register_notifications(self, target: str) -> SubscriptionReport:
        """Webhooks for order.created, order.updated and product.updated to `target`,
        signed with the account's webhook secret (see subscriptions.py)."""
        return await registered(
            subscriptions.register(self._call, target, self._hook_secret), account=self._account
        )

    async def remove_notifications(self, target: str) -> SubscriptionReport:
        return await registered(subscriptions.remove(self._call, target), account=self._account)

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- HTTP ----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
    ) -> Json:
        return self._json(await self._send(method, path, json=json, params=params))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request under the limiter; a non-2xx answer raises its ChannelError."""
        response, signal = await send(
            self._client,
            self._limiter,
            method,
            path,
            account=self._account,
            signal_of=lambda r: rate_signal(r.status_code, r.headers),
            json=json,
            params=params,
            auth=httpx.BasicAuth(self._key.reveal(), self._secret.reveal()),
        )
        if not response.is_success:
            retry_after = signal.retry_after if signal else None
            raise wire.call_error(
                response.status_code, response.content, retry_after, account=self._account
            )
        return response

    def _json(self, response: httpx.Response) -> Json:
        try:
            return response.json()
        except ValueError:
            # A host or cache page with 200 (a WAF challenge) rather than the API's JSON.
            raise TransientError(
                "answer was not JSON", account=self._account, status=response.status_code
            ) from None

    def _parsed(self, parse: Callable[..., T], *args: object) -> T:
        try:
            return parse(*args)
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None


def _first(group: BaseExceptionGroup[ChannelError]) -> ChannelError:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


def _count(headers: httpx.Headers, name: str) -> int | None:
    raw = headers.get(name, "")
    return int(raw) if raw.isdigit() else None


def _total_pages(response: httpx.Response) -> int:
    raw = response.headers.get("x-wp-totalpages", "")
    if raw.isdigit():
        return int(raw)
    return 2 if 'rel="next"' in response.headers.get("link", "") else 1


# The secrets an account needs, by the platform's names (the registry lists them).
CREDENTIALS = ("consumer_key", "consumer_secret", "webhook_secret")


def create_adapter(
    account: AccountId,
    settings: AccountSettings,
    credentials: Mapping[str, Secret],
    *,
    timer: Timer,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> WooCommerceAdapter:
    """The registry's factory. The `base_url` setting is the site's API root, e.g.
    https://shop.example/wp-json/wc/v3/; credentials: consumer_key, consumer_secret and
    webhook_secret. Raises ConfigError when one is missing."""
    base_url = account_api_root("woocommerce", account, settings, credentials, CREDENTIALS)
    client = account_client(base_url.rstrip("/") + "/", transport=transport, timeout=timeout)
    return WooCommerceAdapter(
        account,
        client,
        consumer_key=credentials["consumer_key"],
        consumer_secret=credentials["consumer_secret"],
        webhook_secret=credentials["webhook_secret"],
        timer=timer,
    )
