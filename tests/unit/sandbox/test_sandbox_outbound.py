"""WebhookSender: deliveries one after another by default, or many at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.common.faults import FaultInjector, FaultSettings
from omnistock.kit.sandbox.common.outbound import (
    Delivery,
    DeliveryOutcome,
    Rendered,
    WebhookSender,
)


class _Receiver:
    """An ASGI receiver that answers slowly and counts the requests it holds at once."""

    def __init__(self) -> None:
        self.holding = 0
        self.most = 0
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.holding += 1
        self.most = max(self.most, self.holding)
        await asyncio.sleep(0.01)
        self.bodies.append(message.get("body", b""))
        self.holding -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _quiet_sender(client: httpx.AsyncClient) -> WebhookSender:
    clock = ManualClock()
    return WebhookSender(
        clock=clock,
        faults=FaultInjector(clock, FaultSettings(), seed=1),
        listener=_Quiet(),
        client=client,
    )


async def _deliver_all(sender: WebhookSender) -> None:
    """Run the sender until every delivery enqueued so far was attempted."""
    running = asyncio.create_task(sender.run())
    await asyncio.wait_for(sender.wait_idle(), 10)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running


class _Quiet:
    def delivered(self, outcome: DeliveryOutcome) -> None:
        pass


@pytest.mark.parametrize(("in_flight", "most"), [(1, 1), (4, 4)])
async def test_deliveries_go_as_many_at_once_as_asked(in_flight: int, most: int) -> None:
    receiver = _Receiver()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as client:
        sender = _quiet_sender(client)
        sender.in_flight = in_flight
        for n in range(12):
            body = str(n).encode()
            render = lambda body=body: Rendered(body=body, headers=())  # noqa: E731
            sender.enqueue(Delivery(subscription_id=1, topic="t", url="http://r/", render=render))
        await _deliver_all(sender)
    assert receiver.most == most
    assert sorted(receiver.bodies, key=int) == [str(n).encode() for n in range(12)]
    if in_flight == 1:
        assert receiver.bodies == [str(n).encode() for n in range(12)]  # in order


class _Recording:
    """A Poster that answers 204 and keeps what it was given."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes, tuple[tuple[str, str], ...], float]] = []

    async def post(
        self, url: str, body: bytes, headers: Sequence[tuple[str, str]], timeout_s: float
    ) -> int | None:
        self.posts.append((url, body, tuple(headers), timeout_s))
        return 204


async def test_a_configured_poster_sends_the_deliveries() -> None:
    clock = ManualClock()
    outcomes: list[DeliveryOutcome] = []

    class _Listener:
        def delivered(self, outcome: DeliveryOutcome) -> None:
            outcomes.append(outcome)

    poster = _Recording()
    sender = WebhookSender(
        clock=clock,
        faults=FaultInjector(clock, FaultSettings(), seed=1),
        listener=_Listener(),
        timeout_s=7.0,
    )
    sender.configure(in_flight=2, poster=poster)
    render = lambda: Rendered(body=b"{}", headers=(("X-A", "1"),))  # noqa: E731
    sender.enqueue(Delivery(subscription_id=3, topic="t", url="http://r/h", render=render))
    await _deliver_all(sender)
    assert poster.posts == [("http://r/h", b"{}", (("X-A", "1"),), 7.0)]
    assert [o.status for o in outcomes] == [204]
    assert sender.in_flight == 2


async def test_each_subscription_is_delivered_on_its_own() -> None:
    """One at a time means one at a time per subscription: a receiver stuck on one
    subscription's delivery does not hold up another's."""
    release = asyncio.Event()
    arrived: list[str] = []

    async def receiver(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        arrived.append(scope["path"])
        if scope["path"] == "/slow":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as client:
        sender = _quiet_sender(client)
        render = lambda: Rendered(body=b"{}", headers=())  # noqa: E731
        for sub, path in ((1, "/slow"), (1, "/after-slow"), (2, "/other")):
            sender.enqueue(
                Delivery(subscription_id=sub, topic="t", url=f"http://r{path}", render=render)
            )
        running = asyncio.create_task(sender.run())
        try:
            for _ in range(100):
                if "/other" in arrived:
                    break
                await asyncio.sleep(0.01)
            assert arrived == ["/slow", "/other"]  # the first subscription's second waits
            release.set()
            await asyncio.wait_for(sender.wait_idle(), 10)
            assert arrived == ["/slow", "/other", "/after-slow"]
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
