"""A recording httpx transport: every exchange that reached the sandbox (method, URL, request
body, status, response headers and body), for the validators in models.py."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True, slots=True)
class Exchange:
    method: str
    url: httpx.URL
    request_headers: httpx.Headers
    request_body: bytes
    status: int
    response_headers: httpx.Headers
    response_body: bytes

    @property
    def path(self) -> str:
        return self.url.path


@dataclass
class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps another transport; a request that got no answer (a timeout) is not recorded."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = await request.aread()
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.exchanges.append(
            Exchange(
                request.method,
                request.url,
                request.headers,
                sent,
                response.status_code,
                response.headers,
                body,
            )
        )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
