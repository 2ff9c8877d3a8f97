"""POSTs over keep-alive HTTP/1.1 connections written by hand: the simulated platforms'
notifications to an engine served on loopback, and the benchmarks' request senders.

httpx.AsyncClient managed ~1,000 requests/s per core on the development machine; the same
requests written by hand ~4,000/s. At 200 orders/s the four simulated platforms sent their
deliveries through httpx with three quarters of their process's core (py-spy), so every
delivery waited in its store's queue and the latency benchmark measured the simulation
more than the engine. Plain `http://` only, one request at a time per connection, answers
with a Content-Length: what an engine's webhook routes send."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

Headers = Sequence[tuple[str, str]]

# What a connection that failed may raise: the peer went away, or said something else.
_BROKEN = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


class UnreadableAnswerError(ValueError):
    """An answer this client does not read (no Content-Length: chunked or until close)."""


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader = reader
        self._writer = writer
        self._host = host
        self.reusable = True  # False once the server said it closes the connection

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def post(self, path: str, headers: Headers, body: bytes) -> tuple[int, bytes]:
        """The answer's status and body. Raises UnreadableAnswerError for an answer
        without a Content-Length, OSError or IncompleteReadError when the peer is gone."""
        head = [f"POST {path} HTTP/1.1", f"Host: {self._host}"]
        head += [f"{name}: {value}" for name, value in headers]
        head.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line, *fields = (await self._reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length: int | None = None
        for name, _, value in (field.partition(b":") for field in fields):
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"connection" and value.strip().lower() == b"close":
                self.reusable = False
        if length is None:
            self.reusable = False
            raise UnreadableAnswerError(f"an answer without Content-Length: {status_line!r}")
        return int(status_line.split()[1]), await self._reader.readexactly(length)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):  # broken already: closing is all that was asked
            await self._writer.wait_closed()


class KeepAlivePoster:
    """POSTs to `http://` URLs over a pool of keep-alive connections per host and port
    (as many as requests in flight at once); a `WebhookSender`'s `Poster`."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[Connection]] = {}

    async def post(self, url: str, body: bytes, headers: Headers, timeout_s: float) -> int | None:
        """The answer's status, or None when none came (refused, reset, timed out, or an
        answer this client does not read). Raises ValueError for a URL that is not http."""
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"KeepAlivePoster sends to http:// URLs only, not {url!r}")
        where = (parts.hostname, parts.port or 80)
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        idle = self._idle.setdefault(where, [])
        connection = idle.pop() if idle else None
        while True:
            reused = connection is not None
            try:
                async with asyncio.timeout(timeout_s):
                    connection = connection or await Connection.open(*where)
                    status, _ = await connection.post(path, headers, body)
            except (*_BROKEN, TimeoutError) as error:
                if connection is not None:
                    await connection.close()
                # A pooled connection the server closed while it sat idle fails before any
                # answer: the delivery goes again, once, on a new connection.
                if reused and not isinstance(error, TimeoutError | UnreadableAnswerError):
                    connection = None
                    continue
                logger.info("POST %s failed: %s", url, type(error).__name__)
                return None
            if connection.reusable:
                idle.append(connection)
            else:
                await connection.close()
            return status

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                await connection.close()
        self._idle.clear()
