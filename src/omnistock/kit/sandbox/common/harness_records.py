"""What a test harness records of a sandbox: its API calls as the contract suite counts
them, and the webhooks it sent, caught in memory by an httpx transport."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: whether it wrote, how many items, its status, whether faulted."""

    write: bool
    items: int
    status: int
    faulted: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook POST the sandbox made, as the receiver got it."""

    headers: dict[str, str]
    body: bytes
    signature_header: str


class WebhookReceiver:
    """An httpx transport handler that keeps every webhook the sandbox delivers."""

    def __init__(self, signature_header: str) -> None:
        self._signature_header = signature_header
        self.received: list[Delivery] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.received.append(Delivery(dict(request.headers), body, self._signature_header))
        return httpx.Response(200)
