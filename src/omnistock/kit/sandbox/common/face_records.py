"""What a sandbox face reports of itself in platform-neutral terms: its API calls as the
adapter contract counts them, and the webhooks it sent, caught in memory by an httpx
transport."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: whether it wrote, how many items, its status, whether faulted."""

    write: bool
    items: int
    status: int  # the HTTP status the client was given (0: none)
    faulted: bool  # the sandbox injected a fault instead of answering normally


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook POST the sandbox made, as the receiver got it."""

    headers: dict[str, str]
    body: bytes
    signature_header: str  # the header carrying the platform's signature of the body


class WebhookReceiver:
    """An httpx transport handler that keeps every webhook the sandbox delivers."""

    def __init__(self, signature_header: str) -> None:
        self._signature_header = signature_header
        self.received: list[Delivery] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.received.append(Delivery(dict(request.headers), body, self._signature_header))
        return httpx.Response(200)


@dataclass(slots=True)
class CaughtWebhooks:
    """A receiver and the client a sandbox sends through to reach it."""

    signature_header: str
    receiver: WebhookReceiver = field(init=False)
    client: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.receiver = WebhookReceiver(self.signature_header)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.receiver))

    def take(self) -> list[Delivery]:
        """Every delivery caught since the last take."""
        got, self.receiver.received = self.receiver.received, []
        return got
