"""Requests sent to an engine served over loopback (`omnistock.kit.serving`) from a child
process: what the benchmarks that drive the engine over real sockets share."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from omnistock.kit.sandbox.common.keepalive import Connection
from omnistock.process import run as run_async


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
