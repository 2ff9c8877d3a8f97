"""An ASGI app served with uvicorn on a free loopback port: how the kit puts a sandbox or
the engine on a real socket (the e2e tests, the benchmarks that cross processes)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1 (its URL: `url_of`)."""
    # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that
    # say they are TCP, and without it every answer written in two parts (headers, body)
    # waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def served(
    app: ASGIApp, *, graceful: bool = True, sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """The base URL of `app` served on 127.0.0.1 (on `sock` if given, bound beforehand so
    that its address is known first) until the block ends, then shut down gracefully
    (open keep-alive connections closed, requests in flight finished) or, when not
    `graceful`, cancelled at once (skipping uvicorn's shutdown tick)."""
    sock = sock or loopback_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # uvicorn exposes only a flag
            if task.done():
                task.result()  # it failed to start: raise why, if it said
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield url_of(sock)
    finally:
        if graceful:
            server.should_exit = True
            await task
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sock.close()
