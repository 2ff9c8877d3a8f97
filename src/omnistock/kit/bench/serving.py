"""The engine served over loopback, and requests sent to it from a child process: what
the benchmarks that drive the engine over real sockets share."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from omnistock.kit.sandbox.common.keepalive import Connection
from omnistock.process import run as run_async


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


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class Sent:
    seconds: float  # first request sent to last answer received
    statuses: dict[int, int]
    bodies: tuple[bytes, ...]  # the answers, in completion order, when kept


class Sender:
    """POSTs requests from a child process (spawned on first use, then reused), so that
    the sender's CPU is not charged to the server measured.

    It writes HTTP/1.1 by hand on keep-alive connections (`sandbox.common.keepalive`):
    httpx.AsyncClient managed ~1,000 requests/s per core on the development machine, less
    than the rates measured; the same bytes written by hand ~4,000/s."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self._pool = ProcessPoolExecutor(1, mp_context=context)

    def __enter__(self) -> Sender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._pool.shutdown()

    async def send(
        self, base_url: str, requests: Sequence[Request], concurrency: int, *, keep: bool = False
    ) -> Sent:
        """Every request, `concurrency` at a time; RuntimeError if any was not answered 200.
        `keep` returns the answers' bodies."""
        loop = asyncio.get_running_loop()
        sent = await loop.run_in_executor(
            self._pool, send_all, base_url, requests, concurrency, keep
        )
        refused = {s: n for s, n in sent.statuses.items() if s != 200}
        if refused:
            raise RuntimeError(f"requests refused (status: count): {refused}")
        return sent


def send_all(base_url: str, requests: Sequence[Request], concurrency: int, keep: bool) -> Sent:
    """In the child process: POST every request, `concurrency` at a time."""
    return run_async(_send_all(base_url, requests, concurrency, keep))


async def _send_all(
    base_url: str, requests: Sequence[Request], concurrency: int, keep: bool
) -> Sent:
    host, _, port = base_url.removeprefix("http://").partition(":")
    todo: Iterator[Request] = iter(requests)
    statuses: Counter[int] = Counter()
    bodies: list[bytes] = []

    async def sender(connection: Connection) -> None:
        for request in todo:
            status, body = await connection.post(request.path, request.headers, request.body)
            statuses[status] += 1
            if keep:
                bodies.append(body)

    connections = [await Connection.open(host, int(port)) for _ in range(concurrency)]
    try:
        started = time.perf_counter()
        async with asyncio.TaskGroup() as tg:
            for connection in connections:
                tg.create_task(sender(connection))
        seconds = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
    return Sent(seconds, dict(statuses), tuple(bodies))
