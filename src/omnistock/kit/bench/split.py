"""The benchmarks' shop over two processes, as a real deployment is: the engine in this
one, the platforms in a child of their own — the four sandboxes served over HTTP on
loopback, their shoppers, and the work that watches them (a scenario's probe). The engine's
adapters reach the stores, and the stores' notifications reach the engine, over sockets.

In one process the engine shared a core and the GIL with four platforms and the probe
(py-spy, `latency` at 200 orders/s: the sandboxes, their notification senders and the
probe took most of the samples), so the figures measured the platforms as much as the
engine. Here each side has a core of its own.

The child is spawned and driven over a pipe, one step at a time:
  child  -> ("shop", StoreInfos, opening stock)      stores served, nobody notified yet
  parent -> ("subscribe",)                           engine served at the agreed URL
  child  -> ("subscribed",)                          notifications go to the engine
  parent -> ("go", token)                            first sync done, engine running
  child  -> ("result", value) or ("error", text)     the work, done against the engine
  parent -> ("stop",)"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from omnistock.clock import SystemClock, SystemTimer
from omnistock.domain.events import LedgerEvent
from omnistock.domain.ids import AccountId
from omnistock.engine import Engine, EngineSettings
from omnistock.ingest.pollers import PollInterval
from omnistock.kit.bench.ingest import api_event
from omnistock.kit.merchant import (
    Merchant,
    build_merchant,
    opening_stock,
    seed_catalog,
    subscribe_webhooks,
)
from omnistock.kit.rig import engine_over
from omnistock.kit.serving import loopback_socket, served, url_of
from omnistock.ledger.store import Store
from omnistock.process import configure, run
from omnistock.security.tokens import Scope, new_token

T = TypeVar("T")

STEP_TIMEOUT_S = 300.0  # a setup step the other side takes longer for has failed
STOP_GRACE_S = 5.0  # for the engine to end its pass once the work is done


@dataclass(frozen=True, slots=True)
class SplitOptions:
    platforms: tuple[str, ...]
    skus: int
    seed: int
    opening_low: int
    opening_high: int


@dataclass
class PlatformSide:
    """What the child's work is given: the stores (in its process), the engine's store read
    from its file (read only), and the engine's API with a write token."""

    merchant: Merchant
    store: Store
    api: httpx.AsyncClient

    def write_calls(self) -> dict[AccountId, int]:
        """API calls that set stock since the engine's first sync, per account."""
        return self.merchant.write_calls()

    async def append(self, events: Sequence[LedgerEvent], key: str) -> None:
        """Through `POST /v1/events` with Idempotency-Key `key`, as an ERP would (the API
        wakes the dispatchers). Raises RuntimeError with the API's answer if it refused."""
        answer = await self.api.post(
            "/v1/events",
            json={"events": [api_event(e) for e in events]},
            headers={"Idempotency-Key": key},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"the event API answered {answer.status_code}: {answer.text}")


Work = Callable[[PlatformSide, Any], Awaitable[T]]


@dataclass
class Split(Generic[T]):
    """The engine's side, running; `result` is what the child's work returned."""

    store: Store
    engine: Engine
    result: T


@contextlib.asynccontextmanager
async def split_shop(
    options: SplitOptions, workdir: Path, work: Work[T], argument: object
) -> AsyncIterator[Split[T]]:
    """Run `work(side, argument)` in a child process holding the platforms, against this
    process's engine (SQLite under `workdir`), and yield once it returned. `work` and
    `argument` must pickle (a module-level function; plain data)."""
    database_url = f"sqlite:///{workdir / 'bench-split.db'}"
    engine_sock = loopback_socket()
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    ours, theirs = context.Pipe()
    child = context.Process(
        target=_child_main,
        args=(_Child(options, url_of(engine_sock), database_url, work, argument), theirs),
        daemon=True,
    )
    child.start()
    theirs.close()
    store = await Store.open(database_url)
    try:
        infos, opening = await _expect(ours, "shop", child)
        await seed_catalog(store, infos)
        await store.ledger.append(opening)
        timer = SystemTimer()
        adapters = {i.account: i.adapter(timer, None) for i in infos}
        async with contextlib.AsyncExitStack() as stack:
            for adapter in adapters.values():
                stack.push_async_callback(adapter.aclose)
            notify = await stack.enter_async_context(httpx.AsyncClient())

            async def subscribe() -> None:
                ours.send(("subscribe",))
                await _expect(ours, "subscribed", child)

            engine = await stack.enter_async_context(
                engine_over(
                    store,
                    adapters,
                    clock=SystemClock(),
                    timer=timer,
                    notify_client=notify,
                    settings=EngineSettings(poll=PollInterval(min_s=1.0, max_s=10.0, start_s=2.0)),
                    publish=lambda app: served(app, sock=engine_sock),
                    subscribe=subscribe,
                )
            )
            token, stored = new_token()
            await store.tokens.create("bench", Scope.WRITE.value, stored, SystemClock().now())
            stop = asyncio.Event()
            running = asyncio.create_task(engine.run(stop))
            try:
                ours.send(("go", token.reveal()))
                (result,) = await _expect(ours, "result", child, within_s=None)
                yield Split(store, engine, result)
            finally:
                stop.set()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STOP_GRACE_S):
                        await asyncio.shield(running)
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
    finally:
        with contextlib.suppress(OSError):
            ours.send(("stop",))
        await asyncio.to_thread(child.join, STOP_GRACE_S)
        if child.is_alive():
            child.kill()
        ours.close()
        await store.close()


async def _expect(
    conn: Connection,
    kind: str,
    child: multiprocessing.process.BaseProcess,
    within_s: float | None = STEP_TIMEOUT_S,
) -> tuple[Any, ...]:
    """The next message, which must be `kind`; raises RuntimeError naming what the child
    said or that it died."""
    async with asyncio.timeout(within_s):
        while not await asyncio.to_thread(conn.poll, 0.5):
            if not child.is_alive():
                raise RuntimeError(f"the platforms' process died (exit code {child.exitcode})")
    message = conn.recv()
    if message[0] == "error":
        raise RuntimeError(f"the platforms' process failed:\n{message[1]}")
    if message[0] != kind:
        raise RuntimeError(f"expected {kind!r} from the platforms' process, got {message[0]!r}")
    return tuple(message[1:])


# --- the child -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Child:
    options: SplitOptions
    engine_url: str
    database_url: str
    work: Work[object]
    argument: object


def _child_main(child: _Child, conn: Connection) -> None:
    configure()
    try:
        run(_platforms(child, conn))
    except BaseException:
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


async def _platforms(child: _Child, conn: Connection) -> None:
    options, engine_url = child.options, child.engine_url
    sockets = [loopback_socket() for _ in options.platforms]
    merchant = build_merchant(
        options.platforms,
        options.skus,
        options.seed,
        addresses=[url_of(s) for s in sockets],
        engine_url=engine_url,
    )
    opening = opening_stock(
        merchant,
        options.seed,
        datetime.now(UTC),
        low=options.opening_low,
        high=options.opening_high,
    )
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(merchant.aclose)
        for s, sock in zip(merchant.stores, sockets, strict=True):
            await stack.enter_async_context(served(s.sandbox.app, sock=sock, graceful=False))
            await stack.enter_async_context(s.sandbox.running())
        conn.send(("shop", merchant.infos(), opening))
        await _receive(conn, "subscribe")
        await subscribe_webhooks(merchant)
        conn.send(("subscribed",))
        (token,) = await _receive(conn, "go")
        merchant.clear_calls()
        store = await Store.open(child.database_url)
        stack.push_async_callback(store.close)
        api = await stack.enter_async_context(
            httpx.AsyncClient(base_url=engine_url, headers={"Authorization": f"Bearer {token}"})
        )
        result = await child.work(PlatformSide(merchant, store, api), child.argument)
        conn.send(("result", result))
        await _receive(conn, "stop")


async def _receive(conn: Connection, kind: str) -> tuple[Any, ...]:
    while not await asyncio.to_thread(conn.poll, 0.5):
        pass
    message = conn.recv()
    if message[0] != kind:
        raise RuntimeError(f"expected {kind!r} from the engine's process, got {message[0]!r}")
    return tuple(message[1:])
