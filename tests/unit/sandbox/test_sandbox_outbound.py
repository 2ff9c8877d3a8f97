"""WebhookSender: deliveries one after another by default, or many at once."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from omnistock.sandbox.common.clock import ManualClock
from omnistock.sandbox.common.faults import FaultInjector, FaultSettings
from omnistock.sandbox.common.outbound import (
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


class _Quiet:
    def delivered(self, outcome: DeliveryOutcome) -> None:
        pass


@pytest.mark.parametrize(("in_flight", "most"), [(1, 1), (4, 4)])
async def test_deliveries_go_as_many_at_once_as_asked(in_flight: int, most: int) -> None:
    receiver = _Receiver()
    clock = ManualClock()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as client:
        sender = WebhookSender(
            clock=clock,
            faults=FaultInjector(clock, FaultSettings(), seed=1),
            listener=_Quiet(),
            client=client,
        )
        sender.in_flight = in_flight
        for n in range(12):
            body = str(n).encode()
            render = lambda body=body: Rendered(body=body, headers=())  # noqa: E731
            sender.enqueue(Delivery(subscription_id=1, topic="t", url="http://r/", render=render))
        running = asyncio.create_task(sender.run())
        await asyncio.wait_for(sender.wait_idle(), 10)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert receiver.most == most
    assert sorted(receiver.bodies, key=int) == [str(n).encode() for n in range(12)]
    if in_flight == 1:
        assert receiver.bodies == [str(n).encode() for n in range(12)]  # in order
