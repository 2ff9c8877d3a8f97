"""The eBay channel adapter: bulk_update_price_quantity writes (≤25, per-item results, one
write per SKU in flight, a per-listing revision budget), bulk reads, getOrders polling,
ECDSA-verified notifications and Post-Order cancellation."""

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
from omnistock.adapters.ebay import discovery, events, notifications, subscriptions, wire
from omnistock.adapters.ebay.gate import SkuGate
from omnistock.adapters.ebay.limits import (
    CAPABILITIES,
    FULFILLMENT_RESOURCE,
    INVENTORY_RESOURCE,
)
from omnistock.adapters.ebay.revisions import Admission, RevisionBudget
from omnistock.adapters.ebay.session import NOTIFICATION_RESOURCE, POST_ORDER_RESOURCE, EbaySession
from omnistock.adapters.ebay.settings import EbaySettings
from omnistock.adapters.echo import EchoFilter
from omnistock.adapters.http import (
    DEFAULT_OVERLAP,
    DEFAULT_TIMEOUT,
    account_api_root,
    account_client,
)
from omnistock.adapters.secrets import Secret
from omnistock.adapters.subscribing import registered
from omnistock.clock import Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import ChannelError, ConfigError, PermanentError, WebhookRejectedError
from omnistock.domain.ids import AccountId

logger = logging.getLogger(__name__)
CONTENTION_ATTEMPTS = 4  # sends of a SKU refused with 25025 before it is reported retryable
CONTENTION_PAUSE = 0.25  # seconds, doubled per attempt
LIMIT_REACHED_WAIT = 3_600.0  # eBay said the listing's day is spent; look again in an hour
CANCEL_REASON = "OUT_OF_STOCK_OR_CANNOT_FULFILL"


class EbayAdapter:
    """An eBay seller account behind the ChannelAdapter protocol (Sell Inventory v1,
    Fulfillment v1, Notification v1)."""

    def __init__(
        self,
        account: AccountId,
        session: EbaySession,
        *,
        timer: Timer,
        poll_start: datetime | None = None,
        overlap: timedelta = DEFAULT_OVERLAP,
        revisions: RevisionBudget | None = None,
        verification_token: Secret | None = None,
        endpoint: str | None = None,
        alert_email: str | None = None,
    ) -> None:
        self._account = account
        self._session = session
        self._timer = timer
        self._poll_start = poll_start
        self._overlap = overlap
        self._revisions = revisions or RevisionBudget()
        self._gate = SkuGate()
        self._echo = EchoFilter(timer)
        self._known: dict[str, int] = {}  # SKU -> last quantity written or read
        self._keys = notifications.KeyCache()
        self._verification_token = verification_token
        self._endpoint = endpoint
        self._alert_email = alert_email

    def __repr__(self) -> str:
        return f"EbayAdapter(account={self._account!r}, base_url={self._session.client.base_url})"

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    # --- push ----------------------------------------------------------------------------

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        """bulk_update_price_quantity in calls of ≤25 SKUs (the last update of a SKU wins).
        Listings near their 250 daily revisions get decreases only; held items come back
        FAILED_RETRYABLE with the wait. Raises the first ChannelError only when no call
        got through."""
        results: dict[int, ItemResult] = {}
        admitted = self._admitted(updates, wire.plan_writes(updates), results)
        size = CAPABILITIES.max_batch
        batches = [admitted[i : i + size] for i in range(0, len(admitted), size)]
        errors: list[ChannelError] = []
        for batch in batches:
            try:
                await self._write_batch(updates, batch, results)
            except ChannelError as error:
                logger.info("write of %d SKUs failed: %s", len(batch), error)
                errors.append(error)
                for write in batch:
                    for i in write.indexes:
                        results[i] = wire.failed_result(updates[i], error)
        if batches and len(errors) == len(batches):
            raise errors[0]
        return [results[i] for i in range(len(updates))]

    def _admitted(
        self,
        updates: Sequence[StockUpdate],
        writes: list[wire.Write],
        results: dict[int, ItemResult],
    ) -> list[wire.Write]:
        now = self._timer.monotonic()
        admitted = []
        for write in writes:
            update = updates[write.indexes[-1]]
            known = self._known.get(write.sku, update.expected)
            decrease = known is not None and write.quantity < known
            verdict = self._revisions.admit(_listing(update.ref), decrease=decrease, now=now)
            if verdict.admission is Admission.SEND:
                admitted.append(write)
                continue
            for i in write.indexes:
                results[i] = ItemResult(
                    listing=updates[i].ref.listing,
                    status=ItemStatus.FAILED_RETRYABLE,
                    reason="listing's daily revisions held for decreases",
                    retry_after=verdict.retry_after,
                )
        return admitted

    async def _write_batch(
        self,
        updates: Sequence[StockUpdate],
        batch: list[wire.Write],
        results: dict[int, ItemResult],
    ) -> None:
        """Send; SKUs refused with 25025 (another writer held them) are sent again alone."""
        pending = batch
        for attempt in range(CONTENTION_ATTEMPTS):
            answers = await self._send_writes(updates, pending)
            contended = []
            for write in pending:
                answer = answers.get(write.sku) or wire.ItemAnswer(wire.Outcome.RETRY, "no answer")
                if answer.outcome is wire.Outcome.CONTENDED:
                    contended.append(write)
                else:
                    self._settle(updates, write, answer, results)
            if not contended:
                return
            pending = contended
            await self._timer.sleep(CONTENTION_PAUSE * 2**attempt)
        contention = wire.ItemAnswer(wire.Outcome.RETRY, "25025 concurrent access persisted")
        for write in pending:
            self._settle(updates, write, contention, results)

    async def _send_writes(
        self, updates: Sequence[StockUpdate], writes: list[wire.Write]
    ) -> dict[str, wire.ItemAnswer]:
        async with self._gate.holding([w.sku for w in writes]):
            now = self._timer.monotonic()
            for write in writes:  # counted when sent: a lost answer may still have applied
                self._revisions.spend(_listing(updates[write.indexes[-1]].ref), now)
            body = await self._session.call(
                "POST",
                wire.BULK_UPDATE,
                resource=INVENTORY_RESOURCE,
                json=wire.bulk_update_body(writes),
            )
        try:
            return {sku: wire.item_outcome(r) for sku, r in wire.answers_by_sku(body).items()}
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    def _settle(
        self,
        updates: Sequence[StockUpdate],
        write: wire.Write,
        answer: wire.ItemAnswer,
        results: dict[int, ItemResult],
    ) -> None:
        retry_after = None
        if answer.outcome is wire.Outcome.DONE:
            self._echo.wrote(write.sku, write.quantity)
            self._known[write.sku] = write.quantity
        elif answer.outcome is wire.Outcome.REVISIONS_EXHAUSTED:
            listing = _listing(updates[write.indexes[-1]].ref)
            self._revisions.exhausted(listing, self._timer.monotonic(), LIMIT_REACHED_WAIT)
            retry_after = LIMIT_REACHED_WAIT
        for i in write.indexes:
            results[i] = wire.result_for(updates[i], answer, retry_after)

    # --- read ----------------------------------------------------------------------------

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        """shipToLocationAvailability.quantity per ref by bulk_get_inventory_item (≤25
        SKUs a call); None for a SKU eBay does not know."""
        skus = list(dict.fromkeys(ref.sku for ref in refs))
        found: dict[str, int | None] = {}
        for start in range(0, len(skus), wire.MAX_BULK):
            chunk = skus[start : start + wire.MAX_BULK]
            body = await self._session.call(
                "POST", wire.BULK_GET, resource=INVENTORY_RESOURCE, json=wire.bulk_get_body(chunk)
            )
            try:
                answers = wire.answers_by_sku(body)
            except ValueError as exc:
                raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None
            for sku in chunk:
                answer = answers.get(sku)
                found[sku] = None if answer is None else wire.observed_quantity(answer)
        self._known.update({sku: q for sku, q in found.items() if q is not None})
        return [ObservedLevel(listing=ref.listing, quantity=found.get(ref.sku)) for ref in refs]

    # --- orders --------------------------------------------------------------------------

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        """One page of getOrders by lastmodifieddate (see events.PollCursor)."""
        state = (
            events.PollCursor.decode(cursor)
            if cursor
            else events.PollCursor(after=self._poll_start)
        )
        body = await self._session.call(
            "GET", wire.ORDERS, resource=FULFILLMENT_RESOURCE, params=events.orders_params(state)
        )
        try:
            orders = body["orders"]  # type: ignore[index]
            found = [e for order in orders for e in events.order_events(order, self._account)]
            modified = [events.parse_time(order["lastModifiedDate"]) for order in orders]
            more = bool(body["next"]) if "next" in body else False  # type: ignore[operator,index]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None
        after = events.next_cursor(state, modified, more, self._overlap)
        return OrderPage(events=tuple(found), cursor=after.encode(), more=more)

    async def discover(self, cursor: str | None) -> DiscoveryPage:
        """One page of 200 inventory items (`GET /inventory_item`, eBay's offset a page
        number) under the Inventory API's daily quota; the cursor is the next page number.
        Every item is managed, addressed by its SKU (see discovery.py). Raises ChannelError."""
        try:
            page = discovery.decode_cursor(cursor)
        except ValueError as exc:
            raise PermanentError(str(exc), account=self._account) from None
        body = await self._session.call(
            "GET",
            discovery.INVENTORY_ITEMS,
            resource=INVENTORY_RESOURCE,
            params=discovery.page_params(page),
        )
        try:
            return discovery.items_page(body, page)
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None

    # --- notifications -------------------------------------------------------------------

    async def prepare_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Fetch (and cache for an hour) the public key the notification names, so that
        the synchronous parse_webhook can verify it; nothing if cached or if the header is
        unreadable (parse_webhook rejects it). The key depends on the header alone, not on
        `body`. Raises ChannelError when the key cannot be fetched."""
        del body
        try:
            kid = notifications.signature_header(headers).kid
        except WebhookRejectedError:
            return  # parse_webhook rejects it
        now = self._timer.monotonic()
        if self._keys.get(kid, now) is not None:
            return
        answer = await self._session.call(
            "GET",
            wire.PUBLIC_KEY.format(kid=kid),
            resource=NOTIFICATION_RESOURCE,
            application=True,
        )
        try:
            key = notifications.public_key(str(answer["key"]))  # type: ignore[index]
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"unusable public key: {exc}", account=self._account) from None
        self._keys.put(kid, key, now)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        """Verify X-EBAY-SIGNATURE with the cached key of its kid, then normalise. A key not
        fetched yet (prepare_webhook) is refused with 503, so that eBay sends it again."""
        header = notifications.signature_header(headers)
        key = self._keys.get(header.kid, self._timer.monotonic())
        if key is None:
            raise WebhookRejectedError(f"public key {header.kid} not fetched yet", status=503)
        notifications.verify(header, key, body)
        return notifications.notification_events(body, self._account)

    def answer_challenge(self, challenge_code: str) -> dict[str, str]:
        """The body for eBay's `GET endpoint?challenge_code=…`: hex SHA-256 of the code, the
        destination's verification token and its endpoint URL, the account's
        `verification_token` and `endpoint` credentials (the endpoint exactly as registered
        with eBay, i.e. the public URL of `/webhooks/{account}`). Raises ConfigError when
        either is missing."""
        if self._verification_token is None or self._endpoint is None:
            raise ConfigError(f"ebay account {self._account}: no verification_token/endpoint")
        return notifications.challenge_response(
            challenge_code, self._verification_token.reveal(), self._endpoint
        )

    def is_echo(self, event: ChannelEvent) -> bool:
        """eBay sends no quantity notifications; a QUANTITY_CHANGED naming a SKU (from any
        future source) is an echo when it reports the quantity we last wrote."""
        sku = event.external_ids.get(wire.SKU)
        if event.kind is not ChannelEventType.QUANTITY_CHANGED or event.quantity is None or not sku:
            return False
        return self._echo.is_echo(sku, event.quantity)

    # --- cancellation --------------------------------------------------------------------

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        """Post-Order v2 seller cancellation (OUT_OF_STOCK_OR_CANNOT_FULFILL); eBay restores
        the quantity. `reason` reaches the merchant through omnistock's own notification."""
        del reason
        await self._session.call(
            "POST",
            wire.CANCEL,
            resource=POST_ORDER_RESOURCE,
            json={"legacyOrderId": order_id, "cancelReason": CANCEL_REASON},
            scheme="IAF",
        )
        return True

    async def register_notifications(self, target: str) -> SubscriptionReport:
        """A destination for `target` and an enabled ORDER_CONFIRMATION subscription to it
        (see subscriptions.py). eBay proves the endpoint by a challenge the engine answers
        with the account's `endpoint` credential, so it must be `target`: ConfigError if
        not. Raises ChannelError."""
        if self._endpoint != target:
            raise ConfigError(
                f"ebay account {self._account}: set its notification_endpoint to {target!r}, "
                "the URL the engine answers eBay's challenge for"
            )
        return await registered(self._subscriptions().register(target), account=self._account)

    async def remove_notifications(self, target: str) -> SubscriptionReport:
        return await registered(self._subscriptions().remove(target), account=self._account)

    def _subscriptions(self) -> subscriptions.EbaySubscriptions:
        if self._verification_token is None:
            raise ConfigError(f"ebay account {self._account}: no verification_token")
        return subscriptions.EbaySubscriptions(
            call=self._notification_call,
            account=self._account,
            verification_token=self._verification_token,
            alert_email=self._alert_email,
        )

    async def _notification_call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        user: bool = False,
    ) -> object:
        return await self._session.call(
            method,
            path,
            resource=NOTIFICATION_RESOURCE,
            json=json,
            params=params,
            application=not user,
            notification=user,
        )

    async def aclose(self) -> None:
        await self._session.client.aclose()


def _listing(ref: ListingRef) -> str:
    """The listing a SKU is revised through (all variations of one share it)."""
    return ref.external_ids.get(wire.LISTING_ID) or f"sku:{ref.sku}"


# The secrets an account needs, by the platform's names (the registry lists them).
CREDENTIALS = ("client_id", "client_secret", "refresh_token")


def create_adapter(
    account: AccountId,
    settings: AccountSettings,
    credentials: Mapping[str, Secret],
    *,
    timer: Timer,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> EbayAdapter:
    """The registry's factory. The `base_url` setting: https://api.ebay.com (or
    api.sandbox.ebay.com); credentials: client_id, client_secret, refresh_token (from the
    seller's consent), and optionally verification_token (else derived from the client
    secret and the account, the same in every process) and endpoint (else the
    `notification_endpoint` setting) for the notification challenge."""
    base_url = account_api_root("ebay", account, settings, credentials, CREDENTIALS)
    session = EbaySession(
        account,
        account_client(base_url.rstrip("/"), transport=transport, timeout=timeout),
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        refresh_token=credentials["refresh_token"],
        timer=timer,
    )
    own = settings.as_model(EbaySettings)
    endpoint = credentials.get("endpoint")
    return EbayAdapter(
        account,
        session,
        timer=timer,
        verification_token=credentials.get("verification_token")
        or notifications.verification_token(credentials["client_secret"], account),
        endpoint=endpoint.reveal() if endpoint else own.notification_endpoint,
        alert_email=own.alert_email,
    )
