"""Amazon passes the adapter contract against its sandbox, in-process (ASGI).

Amazon never answers "applied": every write is ACCEPTED and shows later. The shared suite
expects SUCCEEDED, so the pair hands it `ConfirmedWrites`, which does what the dispatcher
does with ACCEPTED (wait `confirm_after_s`, then check the level) and reports SUCCEEDED
only for writes the sandbox then shows; the tests below assert ACCEPTED directly."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence

import httpx
import pytest

from omnistock.adapters.amazon import AmazonAdapter, wire
from omnistock.adapters.amazon.wire import lwa_url
from omnistock.adapters.base import (
    Capabilities,
    ChannelAdapter,
    ChannelEvent,
    ItemResult,
    ItemStatus,
    ListingRef,
    ObservedLevel,
    OrderPage,
    StockUpdate,
)
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.kit.sandbox.amazon import AmazonSandbox
from omnistock.kit.sandbox.common.face import SandboxFace
from tests.contract.adapter_suite import (
    AdapterContract,
    Pair,
    TransportKind,
    open_transport,
)

# Low enough that the suite's larger pushes (120+ listings) go by feed, its small ones by
# patch, so both write paths pass the contract; production derives it from the real limits.
CONTRACT_FEED_FROM = 100
APPLY_DELAY_S = 5.0  # the harness's (and the sandbox's default) ACCEPTED → applied delay


def amazon_adapter(
    harness: AmazonSandbox,
    client: httpx.AsyncClient,
    base_url: str,
    *,
    bulk_feed_from: int = CONTRACT_FEED_FROM,
) -> AmazonAdapter:
    creds = harness.credentials()
    return AmazonAdapter(
        AccountId("amazon-contract"),
        client,
        seller_id=creds["seller_id"],
        marketplace_id=creds["marketplace_id"],
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        refresh_token=Secret(creds["refresh_token"]),
        notification_secret=Secret(creds["notification_secret"]),
        timer=harness.timer,
        lwa_url=lwa_url(base_url),
        bulk_feed_from=bulk_feed_from,
        confirm_after_s=APPLY_DELAY_S,
    )


def listing_ref(sku: str) -> ListingRef:
    """A listing the test adds to the store itself, addressed like the harness's."""
    return ListingRef(listing=ListingId(f"amazon:{sku}"), sku=Sku(sku), external_ids={"sku": sku})


class ConfirmedWrites:
    """The adapter with the dispatcher's confirmation of ACCEPTED writes folded into push:
    after `confirm_after_s` on the platform clock each accepted SKU must show its last
    pushed quantity (else the test fails), and is then reported SUCCEEDED."""

    def __init__(self, inner: AmazonAdapter, harness: AmazonSandbox) -> None:
        self.inner = inner
        self._harness = harness

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        results = await self.inner.push(updates)
        assert ItemStatus.SUCCEEDED not in {r.status for r in results}  # Amazon never says so
        accepted = {
            wire.seller_sku(u.ref): u.quantity
            for u, r in zip(updates, results, strict=True)
            if r.status is ItemStatus.ACCEPTED
        }
        if accepted:
            await self.confirm(accepted)
        return [
            dataclasses.replace(r, status=ItemStatus.SUCCEEDED)
            if r.status is ItemStatus.ACCEPTED
            else r
            for r in results
        ]

    async def confirm(self, accepted: Mapping[str, int]) -> None:
        delay = self.capabilities.confirm_after_s
        assert delay is not None
        await self._harness.timer.sleep(delay)
        store = self._harness.store
        store.catch_up()  # what any API call would do first
        shown = {sku: store.listings[sku].quantity for sku in accepted}
        assert shown == dict(accepted), "an ACCEPTED write did not show after confirm_after_s"

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        return await self.inner.read(refs)

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        return await self.inner.poll_orders(cursor)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        return self.inner.parse_webhook(headers, body)

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        return await self.inner.cancel_order(order_id, reason)

    def is_echo(self, event: ChannelEvent) -> bool:
        return self.inner.is_echo(event)

    async def aclose(self) -> None:
        await self.inner.aclose()


class AmazonPair:
    """The adapter (its ACCEPTED writes confirmed) and the sandbox it talks to, in-process."""

    transport: TransportKind = "asgi"

    @pytest.fixture
    async def pair(self) -> AsyncIterator[Pair]:
        harness = AmazonSandbox.on_manual_clock(apply_delay_s=APPLY_DELAY_S)
        async with harness.running(), open_transport(harness.app, self.transport) as conn:
            base_url = harness.api_url(conn.server_url)
            transport = self.wrap(conn.transport)
            client = account_client(base_url, transport=transport, timeout=conn.timeout)
            adapter = ConfirmedWrites(amazon_adapter(harness, client, base_url), harness)
            yield adapter, harness
            await adapter.aclose()

    def wrap(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport | None:
        """Subclasses may wrap the transport (tests/fidelity records every exchange)."""
        return transport


class AmazonContract(AmazonPair, AdapterContract):
    required_secret = "refresh_token"  # noqa: S105 - a credential's name
    spoiled_secret = "client_secret"  # noqa: S105 - a credential's name
    secret_names = ("client_secret", "refresh_token", "notification_secret")
    cancels = False  # the SP-API gives a seller no call to cancel an MFN order

    def confirmed(self, adapter: ChannelAdapter, face: SandboxFace) -> ChannelAdapter:
        assert isinstance(adapter, AmazonAdapter)
        assert isinstance(face, AmazonSandbox)
        return ConfirmedWrites(adapter, face)


class TestAmazonInProcess(AmazonContract):
    transport = "asgi"
