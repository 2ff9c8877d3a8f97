"""The contract every channel adapter passes against its sandbox.

A platform subclasses AdapterContract and provides `pair`: (adapter, sandbox). The
sandbox's face gives the suite what it needs in platform-neutral terms (SandboxFace).
`open_transport` runs the sandbox in-process (ASGI) or on a loopback socket (uvicorn)."""

from __future__ import annotations

import asyncio
import base64
import math
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import httpx
import pytest
from starlette.types import ASGIApp

from omnistock.adapters.backoff import retry_transient
from omnistock.adapters.base import (
    ChannelAdapter,
    ChannelEvent,
    ChannelEventType,
    ItemResult,
    ItemStatus,
    ListingRef,
    StockUpdate,
)
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.clock import Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import (
    AuthFailedError,
    ConfigError,
    PermanentError,
    RateLimitedError,
    TransientError,
    WebhookRejectedError,
)
from omnistock.domain.ids import AccountId, ListingId
from omnistock.kit.sandbox.common.face import Delivery, SandboxFace
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.registry import SANDBOXES
from tests.serving import served

TransportKind = Literal["asgi", "socket"]


Pair = tuple[ChannelAdapter, SandboxFace]


# --- transports ------------------------------------------------------------------------


class TimeoutASGITransport(httpx.AsyncBaseTransport):
    """httpx.ASGITransport ignores timeouts; this one raises ReadTimeout as a socket would."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._timeout = timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._inner.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None


@dataclass(frozen=True, slots=True)
class Connection:
    server_url: str | None  # None in-process: use the sandbox's own base URL
    transport: httpx.AsyncBaseTransport | None
    timeout: httpx.Timeout


@asynccontextmanager
async def open_transport(app: ASGIApp, kind: TransportKind) -> AsyncIterator[Connection]:
    """Reach `app` in-process, or serve it with uvicorn on a free loopback port. Timeouts
    are short so that injected hangs cost little real time (the sandbox hangs ~1 s)."""
    if kind == "asgi":
        timeout = 0.1
        yield Connection(None, TimeoutASGITransport(app, timeout), httpx.Timeout(timeout))
        return
    timeout = 0.4
    # Not graceful: cancelling skips uvicorn's 0.1 s shutdown tick; the clients are closed.
    async with served(app, graceful=False) as url:
        yield Connection(url, None, httpx.Timeout(timeout))


# --- driving the adapter -----------------------------------------------------------------


def updates_for(refs: Sequence[ListingRef], base: int = 10) -> list[StockUpdate]:
    return [StockUpdate(ref=r, quantity=base + i, sequence=i) for i, r in enumerate(refs)]


@dataclass
class Settled:
    results: dict[ListingId, ItemResult]
    retries: int = 0  # whole-call TransientErrors plus FAILED_RETRYABLE items seen


async def settle(
    adapter: ChannelAdapter, updates: Sequence[StockUpdate], timer: Timer, rounds: int = 40
) -> Settled:
    """Push as a dispatcher would: whole-call transient errors retried with backoff,
    FAILED_RETRYABLE items re-pushed alone, until none is left retryable."""
    rng, settled = random.Random(7), Settled({})
    pending = list(updates)

    async def attempt() -> Sequence[ItemResult]:
        try:
            return await adapter.push(pending)
        except TransientError:
            settled.retries += 1
            raise

    for _ in range(rounds):
        if not pending:
            break
        try:
            results = await retry_transient(attempt, attempts=4, timer=timer, rng=rng, base=1.0)
        except TransientError as error:
            await timer.sleep(error.retry_after or 1.0)
            continue
        settled.results.update({u.ref.listing: r for u, r in zip(pending, results, strict=True)})
        retry = [(u, r) for u, r in zip(pending, results, strict=True) if _retryable(r)]
        settled.retries += len(retry)
        pending = [u for u, _ in retry]
        await timer.sleep(max([r.retry_after or 1.0 for _, r in retry] or [0]))
    return settled


def _retryable(result: ItemResult) -> bool:
    return result.status is ItemStatus.FAILED_RETRYABLE


def written(harness: SandboxFace) -> int:
    """Listings carried by write calls that the sandbox answered with success."""
    return sum(c.items for c in harness.calls() if c.write and 200 <= c.status < 300)


async def assert_shown(harness: SandboxFace, updates: Sequence[StockUpdate]) -> None:
    shown = [await harness.held(u.ref) for u in updates]
    assert shown == [u.quantity for u in updates]


async def poll_all(adapter: ChannelAdapter, limit: int = 100) -> list[str]:
    cursor: str | None = None
    seen: list[str] = []
    for _ in range(limit):
        page = await adapter.poll_orders(cursor)
        seen.extend(e.order_id for e in page.events if e.order_id is not None)
        cursor = page.cursor
        if not page.more:
            return seen
    raise AssertionError(f"orders polling did not finish in {limit} pages")


def unsigned(delivery: Delivery) -> dict[str, str]:
    name = delivery.signature_header.lower()
    return {k: v for k, v in delivery.headers.items() if k.lower() != name}


def forged(delivery: Delivery) -> dict[str, str]:
    fake = base64.b64encode(random.Random(3).randbytes(32)).decode()
    return {**unsigned(delivery), delivery.signature_header: fake}


# --- the contract ------------------------------------------------------------------------


class AdapterContract:
    """Every adapter passes this against its sandbox. Subclasses provide `pair` (the
    adapter, and the sandbox's face it talks to) and say, in the class attributes below,
    what differs between platforms without changing what is promised."""

    # The credential the registry reports missing when an account lacks it.
    required_secret: str
    # A credential that, given wrong, makes the platform refuse the adapter.
    spoiled_secret: str
    # Credentials whose values must never show in an error or a repr.
    secret_names: tuple[str, ...]
    # False where the platform gives no call to cancel an order (the adapter says so).
    cancels: bool = True
    # Order ids the platform has never issued, each malformed or unknown there.
    unknown_order_ids: tuple[str, ...] = ()
    # What a refused compare-and-set write names as its reason, in the platform's words.
    raced_reason: str = ""

    @pytest.fixture
    def pair(self) -> Pair:
        raise NotImplementedError

    def confirmed(self, adapter: ChannelAdapter, face: SandboxFace) -> ChannelAdapter:
        """`adapter` as the suite drives it: a platform that answers ACCEPTED wraps it in
        what the dispatcher does next (waiting for the write to show)."""
        del face
        return adapter

    async def check_cancelled(
        self, adapter: ChannelAdapter, face: SandboxFace, order_id: str
    ) -> None:
        """The cancellation as the platform itself records it, where it says more than
        the restored stock (a platform overrides this to check its order's state)."""

    def registry_adapter(
        self, face: SandboxFace, secrets: Mapping[str, Secret] | None = None
    ) -> ChannelAdapter:
        """The adapter the registry builds for an account of `face`, reaching it in-process."""
        platform = PLATFORMS[face.platform]
        credentials = secrets if secrets is not None else account_secrets(face)
        transport = httpx.ASGITransport(app=face.app)
        return platform.create_adapter(
            AccountId("a"), face_settings(face), credentials, timer=face.timer, transport=transport
        )

    # the registry and credentials -------------------------------------------------------

    async def test_the_registry_builds_a_working_adapter(self, pair: Pair) -> None:
        _, face = pair
        platform = PLATFORMS[face.platform]
        secrets = account_secrets(face)
        lacking = {k: v for k, v in secrets.items() if k != self.required_secret}
        with pytest.raises(ConfigError, match=self.required_secret):
            platform.create_adapter(AccountId("a"), face_settings(face), lacking, timer=face.timer)
        adapter = self.confirmed(self.registry_adapter(face, secrets), face)
        (ref,) = await face.seed(1)
        (result,) = await adapter.push([StockUpdate(ref=ref, quantity=4, sequence=1)])
        assert (result.status, await face.held(ref)) == (ItemStatus.SUCCEEDED, 4)
        await adapter.aclose()
        served = SANDBOXES[platform.name](SandboxOptions(base_url="http://x"))
        assert served.platform == face.platform

    async def test_credentials_stay_out_of_reprs_and_errors(self, pair: Pair) -> None:
        _, face = pair
        wrong = "wrong-secret-0123456789abcdef"
        secrets = {**account_secrets(face), self.spoiled_secret: Secret(wrong)}
        adapter = self.registry_adapter(face, secrets)
        (ref,) = await face.seed(1)
        with pytest.raises(AuthFailedError) as caught:
            await adapter.push([StockUpdate(ref=ref, quantity=4, sequence=1)])
        await adapter.aclose()
        shown = f"{caught.value!s} {caught.value!r} {adapter!r}"
        credentials = face.connection().credentials
        assert [n for n in self.secret_names if credentials[n] in shown] == []
        assert wrong not in shown

    # orders ------------------------------------------------------------------------------

    async def test_cancel_order_cancels_it_and_restores_the_stock(self, pair: Pair) -> None:
        adapter, face = pair
        (ref,) = await face.seed(1, quantity=5)
        [order_id] = await face.place_orders([ref], 1, per_second=1)
        assert await face.held(ref) == 4
        if not self.cancels:
            assert await adapter.cancel_order(order_id, "oversold") is False
            assert await face.held(ref) == 4
            return
        assert await adapter.cancel_order(order_id, "oversold") is True
        assert await adapter.cancel_order(order_id, "oversold") is True  # idempotent
        assert await face.held(ref) == 5
        await self.check_cancelled(adapter, face, order_id)
        for unknown in self.unknown_order_ids:
            with pytest.raises(PermanentError):
                await adapter.cancel_order(unknown, "oversold")

    # compare-and-set -----------------------------------------------------------------------

    async def test_a_raced_sale_is_never_overwritten(self, pair: Pair) -> None:
        adapter, face = pair
        if not adapter.capabilities.compare_and_set:
            pytest.skip("the platform cannot refuse a write whose level moved")
        (ref,) = await face.seed(1, quantity=5)
        await face.place_orders([ref], 1, per_second=1)  # the level is 4; omnistock saw 5
        (result,) = await adapter.push([StockUpdate(ref=ref, quantity=9, sequence=2, expected=5)])
        assert (result.status, result.observed) == (ItemStatus.FAILED_RETRYABLE, 4)
        assert result.reason is not None
        assert self.raced_reason in result.reason
        assert await face.held(ref) == 4

    # push ------------------------------------------------------------------------------

    async def test_one_result_per_update_in_order(self, pair: Pair) -> None:
        adapter, harness = pair
        refs = await harness.seed(3) + await harness.seed(3, variants=True)
        updates = updates_for(refs[::-1])
        results = await adapter.push(updates)
        assert [r.listing for r in results] == [u.ref.listing for u in updates]
        assert {r.status for r in results} == {ItemStatus.SUCCEEDED}
        await assert_shown(harness, updates)

    async def test_batches_split_at_max_batch(self, pair: Pair) -> None:
        adapter, harness = pair
        updates = updates_for(await harness.seed(250))
        harness.reset_calls()
        results = await adapter.push(updates)
        assert all(r.status is ItemStatus.SUCCEEDED for r in results)
        writes = [c for c in harness.calls() if c.write]
        assert len(writes) == math.ceil(250 / adapter.capabilities.max_batch)
        assert max(c.items for c in writes) <= adapter.capabilities.max_batch
        await assert_shown(harness, updates)

    async def test_an_item_named_twice_is_applied_once(self, pair: Pair) -> None:
        adapter, harness = pair
        (ref,) = await harness.seed(1)
        harness.reset_calls()
        twice = [StockUpdate(ref=ref, quantity=q, sequence=q) for q in (3, 8)]
        results = await adapter.push(twice)
        assert [r.status for r in results] == [ItemStatus.SUCCEEDED] * 2
        assert (written(harness), await harness.held(ref)) == (1, 8)

    async def test_half_failed_batch_fails_only_its_items(self, pair: Pair) -> None:
        adapter, harness = pair
        updates = updates_for(await harness.seed(10))
        for bad in (2, 7):
            harness.fail_item_writes(updates[bad].ref)
        results = await adapter.push(updates)
        failed = [i for i, r in enumerate(results) if r.status is not ItemStatus.SUCCEEDED]
        assert failed == [2, 7]
        assert all(results[i].reason for i in failed)
        retry = [updates[i] for i in failed if results[i].status is ItemStatus.FAILED_RETRYABLE]
        assert retry == [updates[2], updates[7]]
        assert {r.status for r in await adapter.push(retry)} == {ItemStatus.SUCCEEDED}
        await assert_shown(harness, updates)

    async def test_429_raises_rate_limited_with_retry_after(self, pair: Pair) -> None:
        adapter, harness = pair
        refs = await harness.seed(1)
        harness.fail_next(429, retry_after=2)
        with pytest.raises(RateLimitedError) as caught:
            await adapter.push(updates_for(refs))
        assert caught.value.retry_after == 2

    async def test_refused_credentials_raise_auth_failed(self, pair: Pair) -> None:
        adapter, harness = pair
        refs = await harness.seed(1)
        harness.fail_next(401)
        with pytest.raises(AuthFailedError):
            await adapter.push(updates_for(refs))

    async def test_an_expired_token_is_renewed(self, pair: Pair) -> None:
        adapter, harness = pair
        refs = await harness.seed(2)
        if not harness.expire_token():
            pytest.skip("the platform has no expiring tokens")
        settled = await settle(adapter, updates_for(refs), harness.timer)
        assert {r.status for r in settled.results.values()} == {ItemStatus.SUCCEEDED}

    @pytest.mark.parametrize("fault", ["storm_429", "5xx", "outage", "item_errors"])
    async def test_faults_end_settled_never_lost_never_doubled(
        self, pair: Pair, fault: str
    ) -> None:
        adapter, harness = pair
        updates = updates_for(await harness.seed(120) + await harness.seed(10, variants=True))
        harness.reset_calls()
        _inject(harness, fault, updates)
        settled = await settle(adapter, updates, harness.timer)
        assert settled.retries > 0  # the fault did bite
        assert set(settled.results) == {u.ref.listing for u in updates}
        assert {r.status for r in settled.results.values()} == {ItemStatus.SUCCEEDED}
        await assert_shown(harness, updates)
        # Refused calls change nothing, so each listing was written exactly once; an item
        # that failed on its own still counts in its (successful) call, once per failure.
        refused_items = 2 * len(updates[::9]) if fault == "item_errors" else 0
        assert written(harness) == len(updates) + refused_items

    async def test_timeouts_end_settled_never_lost(self, pair: Pair) -> None:
        adapter, harness = pair
        updates = updates_for(await harness.seed(30) + await harness.seed(10, variants=True))
        harness.reset_calls()
        harness.timeouts(0.5)
        settled = await settle(adapter, updates, harness.timer)
        harness.clear_faults()
        assert settled.retries > 0
        assert {r.status for r in settled.results.values()} == {ItemStatus.SUCCEEDED}
        assert len(settled.results) == len(updates)
        await assert_shown(harness, updates)

    # read ------------------------------------------------------------------------------

    async def test_read_returns_what_the_sandbox_holds(self, pair: Pair) -> None:
        adapter, harness = pair
        refs = await harness.seed(4, quantity=6) + await harness.seed(3, variants=True)
        await harness.change_externally(refs[1], 17)
        await harness.change_externally(refs[5], 2)
        refs.append(harness.unknown_listing())
        levels = await adapter.read(refs)
        assert [lv.listing for lv in levels] == [r.listing for r in refs]
        assert [lv.quantity for lv in levels] == [await harness.held(r) for r in refs]
        assert (levels[1].quantity, levels[5].quantity, levels[-1].quantity) == (17, 2, None)

    # webhooks --------------------------------------------------------------------------

    async def test_forged_unsigned_and_tampered_webhooks_are_rejected(self, pair: Pair) -> None:
        adapter, harness = pair
        (ref,) = await harness.seed(1)
        await harness.subscribe_webhooks()
        await harness.change_externally(ref, 4)
        (delivery,) = await harness.deliveries()
        assert adapter.parse_webhook(delivery.headers, delivery.body)
        tampered = delivery.body.replace(b"4", b"5", 1)
        for headers, body in (
            (forged(delivery), delivery.body),
            (unsigned(delivery), delivery.body),
            (delivery.headers, tampered),
        ):
            with pytest.raises(WebhookRejectedError) as caught:
                adapter.parse_webhook(headers, body)
            assert caught.value.status == 401

    async def test_duplicate_webhooks_give_one_canonical_event(self, pair: Pair) -> None:
        adapter, harness = pair
        (ref,) = await harness.seed(1)
        await harness.subscribe_webhooks()
        harness.duplicate_webhooks()
        await harness.change_externally(ref, 9)
        deliveries = await harness.deliveries()
        assert len(deliveries) == 2
        events = [e for d in deliveries for e in adapter.parse_webhook(d.headers, d.body)]
        assert len(events) == 2
        assert len({e.dedupe_key for e in events}) == 1
        assert events[0] == events[1]

    async def test_echoes_of_our_writes_are_suppressed(self, pair: Pair) -> None:
        adapter, harness = pair
        refs = await harness.seed(2) + await harness.seed(2, variants=True)
        await harness.subscribe_webhooks()
        updates = updates_for(refs, base=30)
        await adapter.push(updates)
        pushed = await _quantity_events(adapter, harness)
        assert len(pushed) == len(updates)
        assert all(adapter.is_echo(e) for e in pushed)
        await harness.change_externally(refs[0], 3)
        (external,) = await _quantity_events(adapter, harness)
        assert external.quantity == 3
        assert not adapter.is_echo(external)

    # orders ----------------------------------------------------------------------------

    @pytest.mark.parametrize(("count", "per_second"), [(130, 3), (150, 120)])
    async def test_orders_polling_misses_nothing(
        self, pair: Pair, count: int, per_second: int
    ) -> None:
        adapter, harness = pair
        refs = await harness.seed(5, quantity=1000)
        placed = await harness.place_orders(refs, count, per_second=per_second)
        seen = await poll_all(adapter)
        assert len(set(placed)) == count
        assert set(placed) <= set(seen)

    async def test_orders_become_placed_events_with_lines(self, pair: Pair) -> None:
        adapter, harness = pair
        refs = await harness.seed(2, quantity=50)
        (order_id,) = await harness.place_orders(refs, 1, per_second=1)
        page = await adapter.poll_orders(None)
        (event,) = [e for e in page.events if e.order_id == order_id]
        assert event.kind is ChannelEventType.ORDER_PLACED
        (line,) = event.lines
        assert (line.sku, line.quantity) == (refs[0].sku, 1)
        assert dict(line.external_ids).items() >= dict(refs[0].external_ids).items()


def face_settings(face: SandboxFace) -> AccountSettings:
    """The settings an account of `face` is configured with, as its platform's model reads
    them (e.g. the Amazon sandbox's marketplace)."""
    raw = {**face.connection().settings, "base_url": face.api_url()}
    return PLATFORMS[face.platform].settings.of(raw)


def account_secrets(face: SandboxFace) -> dict[str, Secret]:
    """The credentials an account of `face` is configured with, as the registry names them."""
    return {k: Secret(v) for k, v in face.connection().credentials.items()}


def _inject(harness: SandboxFace, fault: str, updates: Sequence[StockUpdate]) -> None:
    if fault == "storm_429":
        harness.storm_429(seconds=30, retry_after=5)
    elif fault == "5xx":
        harness.error_rate(503, 0.5)
    elif fault == "outage":
        harness.outage(seconds=3)
    else:
        for update in updates[::9]:
            harness.fail_item_writes(update.ref, times=2)


async def _quantity_events(adapter: ChannelAdapter, harness: SandboxFace) -> list[ChannelEvent]:
    deliveries = await harness.deliveries()
    events = [e for d in deliveries for e in adapter.parse_webhook(d.headers, d.body)]
    return [e for e in events if e.kind is ChannelEventType.QUANTITY_CHANGED]
