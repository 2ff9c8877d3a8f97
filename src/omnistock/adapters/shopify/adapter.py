"""The Shopify channel adapter: the I/O around wire.py and events.py, one client per account.

Every GraphQL call is planned (its requested cost) and paced by the account's CostBucket
limiter, which each answer's throttleStatus resynchronises."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

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
    json_body,
    send,
    token_answer,
    translate_transport_error,
)
from omnistock.adapters.ratelimit import RateLimiter, limiter_for
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify import discovery, events, subscriptions, wire
from omnistock.adapters.shopify.limits import BUCKET, CAPABILITIES, rate_signal
from omnistock.adapters.subscribing import registered
from omnistock.adapters.tokens import AccessToken, TokenCache
from omnistock.clock import Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import AuthFailedError, ChannelError, PermanentError
from omnistock.domain.ids import AccountId

logger = logging.getLogger(__name__)
UNADDRESSABLE = "listing lacks numeric inventory_item_id and location_id"
NOT_STOCKED = "inventory item not found or not stocked at the location"
# Points a poll leaves in the bucket for the writes: polling is the webhooks' fallback and
# must not hold up pushes. An orders page asks for ~720 points and a busy store's page costs
# nearly that (7 per order): polling every order of a store selling 50 a second would need
# 350 points/s, more than the 100/s the bucket restores. (Measured in `omnistock bench
# latency`: polls queued ahead of every write, ~1.9 s each.)
POLL_LEAVES_POINTS = BUCKET.capacity / 2


class ShopifyAdapter:
    """A Shopify store behind the ChannelAdapter protocol (Admin GraphQL API 2026-04)."""

    def __init__(
        self,
        account: AccountId,
        client: httpx.AsyncClient,
        *,
        client_id: Secret,
        client_secret: Secret,
        timer: Timer,
        access_token: Secret | None = None,
        poll_start: datetime | None = None,
        overlap: timedelta = DEFAULT_OVERLAP,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._account = account
        self._client = client
        self._client_id = client_id
        self._secret = client_secret
        self._static_token = access_token
        self._tokens = TokenCache(self._fetch_token, timer)
        self._timer = timer
        self._poll_start = poll_start
        self._overlap = overlap
        self._limiter = limiter or limiter_for(CAPABILITIES.rate, timer)
        self._echo = EchoFilter(timer)
        self._webhooks = events.WebhookParser(account, client_secret)

    def __repr__(self) -> str:
        return f"ShopifyAdapter(account={self._account!r}, base_url={self._client.base_url})"

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    # --- push ----------------------------------------------------------------------------

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        """inventorySetQuantities in calls of ≤250 rows, each row comparing against
        `expected` (or the level read first). A stale row comes back FAILED_RETRYABLE with
        the level read again, so the engine re-plans: a raced sale is never overwritten.
        Raises the first ChannelError only when no call got through."""
        targets = [wire.target_of(u.ref) for u in updates]
        results: dict[int, ItemResult] = {}
        for i, (update, target) in enumerate(zip(updates, targets, strict=True)):
            if target is None:
                results[i] = ItemResult(
                    listing=update.ref.listing,
                    status=ItemStatus.FAILED_PERMANENT,
                    reason=UNADDRESSABLE,
                )
        unknown = [t for u, t in zip(updates, targets, strict=True) if t and u.expected is None]
        current = await self._levels(unknown) if unknown else {}
        writes = wire.plan_writes(updates, targets, current)
        covered = {i for w in writes for i in w.indexes}
        for i, target in enumerate(targets):
            if target is not None and i not in covered:
                results[i] = ItemResult(
                    listing=updates[i].ref.listing,
                    status=ItemStatus.FAILED_PERMANENT,
                    reason=NOT_STOCKED,
                )
        errors = await self._write_all(updates, writes, results)
        if errors and len(errors) == len(range(0, len(writes), CAPABILITIES.max_batch)):
            raise errors[0]
        return [results[i] for i in range(len(updates))]

    async def _write_all(
        self,
        updates: Sequence[StockUpdate],
        writes: list[wire.Write],
        results: dict[int, ItemResult],
    ) -> list[ChannelError]:
        errors = []
        size = CAPABILITIES.max_batch
        for start in range(0, len(writes), size):
            batch = writes[start : start + size]
            try:
                await self._write_batch(updates, batch, results)
            except ChannelError as error:
                logger.info("set of %d rows failed: %s", len(batch), error)
                errors.append(error)
                for write in batch:
                    for i in write.indexes:
                        results[i] = wire.failed_result(updates[i], error)
        return errors

    async def _write_batch(
        self,
        updates: Sequence[StockUpdate],
        batch: list[wire.Write],
        results: dict[int, ItemResult],
    ) -> None:
        """Send; rows refused on their own fail, the others (rolled back with them, since
        a call applies whole or not at all) are sent again without them."""
        while batch:
            body = await self._graphql(
                wire.SET_QUANTITIES, wire.set_variables(batch), wire.MUTATION_COST
            )
            answer = self._parsed_set(body, len(batch))
            if answer.applied:
                self._succeeded(updates, batch, results)
                return
            if answer.general:
                raise PermanentError("; ".join(answer.general), account=self._account)
            refused = [batch[n] for n in answer.refused]
            observed = await self._levels([w.target for w in refused])
            for n, (code, message) in answer.refused.items():
                for i in batch[n].indexes:
                    level = observed.get(batch[n].target.key)
                    results[i] = wire.refused_result(updates[i], code, message, level)
            batch = [w for n, w in enumerate(batch) if n not in answer.refused]

    def _parsed_set(self, body: object, rows: int) -> wire.SetAnswer:
        try:
            return wire.set_answer(body, rows)
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    def _succeeded(
        self,
        updates: Sequence[StockUpdate],
        batch: list[wire.Write],
        results: dict[int, ItemResult],
    ) -> None:
        for write in batch:
            self._echo.wrote(write.target.key, write.quantity)
            for i in write.indexes:
                results[i] = ItemResult(
                    listing=updates[i].ref.listing,
                    status=ItemStatus.SUCCEEDED,
                    observed=write.quantity,
                )

    # --- read ----------------------------------------------------------------------------

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        """`available` per ref, read in bulk by inventory item id (≤250 a call, one call
        per location); None for an unknown item or one not stocked there."""
        targets = [wire.target_of(ref) for ref in refs]
        found = await self._levels([t for t in targets if t is not None])
        return [
            ObservedLevel(listing=ref.listing, quantity=None if t is None else found.get(t.key))
            for ref, t in zip(refs, targets, strict=True)
        ]

    async def _levels(self, targets: Sequence[wire.Target]) -> dict[str, int]:
        by_location: dict[str, list[wire.Target]] = {}
        for target in dict.fromkeys(targets):
            by_location.setdefault(target.location, []).append(target)
        found: dict[str, int] = {}
        size = CAPABILITIES.max_batch
        for location, group in by_location.items():
            for start in range(0, len(group), size):
                chunk = group[start : start + size]
                body = await self._graphql(
                    wire.READ_LEVELS, wire.read_variables(chunk), wire.read_cost(len(chunk))
                )
                found.update(self._parsed_levels(body, location))
        return found

    def _parsed_levels(self, body: object, location: str) -> dict[str, int]:
        try:
            return wire.read_levels(body, location)
        except (ValueError, TypeError, KeyError) as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    # --- orders --------------------------------------------------------------------------

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        """One page of orders updated since `cursor` (see events.PollCursor)."""
        state = (
            events.PollCursor.decode(cursor) if cursor else events.epoch_cursor(self._poll_start)
        )
        cost = wire.orders_cost()
        while (wait := self._limiter.delay(cost + POLL_LEAVES_POINTS)) > 0:
            # Outside the limiter's queue: a poll waiting there would hold up the writes.
            await self._timer.sleep(wait)
        body = await self._graphql(wire.ORDERS, events.orders_variables(state), cost)
        try:
            page = body["data"]["orders"]  # type: ignore[index]
            nodes = page["nodes"]
            found = [e for node in nodes for e in events.order_events(node, self._account)]
            updated = [events.parse_time(node["updatedAt"]) for node in nodes]
            more = bool(page["pageInfo"]["hasNextPage"])
            end = page["pageInfo"]["endCursor"]
        except (ValueError, TypeError, KeyError) as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None
        after = events.next_cursor(state, updated, end, more, self._overlap)
        return OrderPage(events=tuple(found), cursor=after.encode(), more=more)

    async def discover(self, cursor: str | None) -> DiscoveryPage:
        """Every variant, one listing per location it is stocked at, one productVariants
        page a call planned within the cost bucket (see discovery.py). Raises ChannelError;
        PermanentError for a cursor it did not issue or an answer it cannot read."""
        try:
            return await discovery.discover_page(self._graphql, cursor)
        except discovery.InvalidCursorError as exc:
            raise PermanentError(f"discovery cursor: {exc}", account=self._account) from None
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    # --- webhooks, echoes, cancellation --------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        return self._webhooks.parse(headers, body)

    def is_echo(self, event: ChannelEvent) -> bool:
        if event.kind is not ChannelEventType.QUANTITY_CHANGED or event.quantity is None:
            return False
        item = event.external_ids.get(wire.INVENTORY_ITEM_ID)
        location = event.external_ids.get(wire.LOCATION_ID)
        if item is None or location is None:
            return False
        return self._echo.is_echo(wire.Target(item, location).key, event.quantity)

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        """orderCancel with restock (Shopify gives the units back and sends orders/cancelled).
        `reason` reaches the merchant through omnistock's own notification."""
        del reason
        if not order_id.isdigit():
            raise PermanentError(f"not a Shopify order id: {order_id!r}", account=self._account)
        body = await self._graphql(
            wire.CANCEL_ORDER, {"id": wire.gid("Order", order_id)}, wire.MUTATION_COST
        )
        payload = body.get("data", {}).get("orderCancel") if isinstance(body, dict) else None
        problems = (
            (payload or {}).get("orderCancelUserErrors") if isinstance(payload, dict) else None
        )
        if problems:
            raise PermanentError(
                f"order {order_id} not cancelled: {problems[0].get('message')}",
                account=self._account,
            )
        return True

    async def register_notifications(self, target: str) -> SubscriptionReport:
        """Webhook subscriptions of the topics events.py reads, delivered to `target`
        (see subscriptions.py). Raises ChannelError."""
        return await registered(
            subscriptions.register(self._graphql, target), account=self._account
        )

    async def remove_notifications(self, target: str) -> SubscriptionReport:
        return await registered(subscriptions.remove(self._graphql, target), account=self._account)

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- HTTP ----------------------------------------------------------------------------

    async def _graphql(self, query: str, variables: Mapping[str, object], cost: float) -> object:
        token = await self._token()
        response, signal = await send(
            self._client,
            self._limiter,
            "POST",
            wire.GRAPHQL_PATH,
            account=self._account,
            signal_of=lambda r: rate_signal(r.status_code, r.headers, json_body(r), requested=cost),
            cost=cost,
            json={"query": query, "variables": dict(variables)},
            headers={"X-Shopify-Access-Token": token.reveal()},
        )
        body = json_body(response)
        retry_after = signal.retry_after if signal else None
        error = wire.call_error(response.status_code, body, retry_after, account=self._account)
        if isinstance(error, AuthFailedError):
            self._tokens.invalidate(token)  # the next call fetches a fresh token
        if error is not None:
            raise error
        return body

    async def _token(self) -> Secret:
        return self._static_token or await self._tokens.token()

    async def _fetch_token(self) -> AccessToken:
        """The client-credentials grant (tokens last 24 h; the cache renews them early)."""
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id.reveal(),
            "client_secret": self._secret.reveal(),
        }
        try:
            response = await self._client.post(wire.TOKEN_PATH, data=form)
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, account=self._account) from None
        body = json_body(response)
        signal = rate_signal(response.status_code, response.headers, body, requested=0)
        error = wire.call_error(
            response.status_code,
            body,
            signal.retry_after if signal else None,
            account=self._account,
        )
        if response.status_code == 400 and error is not None:
            error = AuthFailedError("client credentials refused", account=self._account, status=400)
        if error is not None:
            raise error
        return token_answer(body, account=self._account, timer=self._timer)


# The secrets an account needs, by the platform's names (the registry lists them).
CREDENTIALS = ("client_id", "client_secret")


def create_adapter(
    account: AccountId,
    settings: AccountSettings,
    credentials: Mapping[str, Secret],
    *,
    timer: Timer,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> ShopifyAdapter:
    """The registry's factory. The `base_url` setting: https://{shop}.myshopify.com;
    credentials: client_id and client_secret (the app's; the secret also verifies
    webhooks), and optionally a non-expiring access_token. Raises ConfigError when one is
    missing."""
    base_url = account_api_root("shopify", account, settings, credentials, CREDENTIALS)
    client = account_client(base_url.rstrip("/"), transport=transport, timeout=timeout)
    return ShopifyAdapter(
        account,
        client,
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        timer=timer,
        access_token=credentials.get("access_token"),
    )
