"""A tests-only httpx transport that records every exchange it carries (request and, when
one came back, response), so that fidelity tests can check them against eBay's contracts."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class Exchange:
    """One call as it went over the wire; `status` is None when no response came back."""

    method: str
    url: httpx.URL
    request_headers: httpx.Headers
    request_body: bytes
    status: int | None = None
    response_headers: httpx.Headers | None = None
    response_body: bytes = b""

    def __str__(self) -> str:
        return f"{self.method} {self.url.path} -> {self.status}"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes each request to `inner` and keeps a copy of both sides in `exchanges`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sent = Exchange(request.method, request.url, httpx.Headers(request.headers), body)
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.HTTPError:
            self.exchanges.append(sent)  # the request still has to be a valid one
            raise
        content = await response.aread()
        await response.aclose()
        self.exchanges.append(
            Exchange(
                sent.method,
                sent.url,
                sent.request_headers,
                body,
                response.status_code,
                httpx.Headers(response.headers),
                content,
            )
        )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )

    def take(self) -> list[Exchange]:
        """The exchanges recorded so far, forgetting them."""
        taken, self.exchanges = self.exchanges, []
        return taken

    async def aclose(self) -> None:
        await self._inner.aclose()
