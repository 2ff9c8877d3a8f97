"""Serve one sandbox on a TCP port with uvicorn and announce it with one JSON line.

The CLI's `omnistock sandbox PLATFORM` calls this through `omnistock.kit.sandbox.registry.serve`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx
import uvicorn
from starlette.types import ASGIApp

from omnistock.kit.sandbox.common.config import SandboxConfig
from omnistock.kit.sandbox.common.middleware import ADMIN_PREFIX
from omnistock.kit.sandbox.common.outbound import Poster, WebhookSender
from omnistock.kit.sandbox.common.truth import TruthBook


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxOptions(SandboxConfig):
    """What every platform sandbox is built from (served alone, or beside others that sell
    the same catalog from one warehouse: same `catalog_seed`, one shared `truth`)."""

    webhook_client: httpx.AsyncClient | None = None  # where its notifications are sent from
    truth: TruthBook | None = None
    webhooks_in_flight: int = 1  # deliveries sent at once (1: one after another, in order)
    webhook_poster: Poster | None = None  # what sends them, if not `webhook_client`


class Sends(Protocol):
    @property
    def outbound(self) -> WebhookSender:
        """What sends the sandbox's notifications."""
        ...


C = TypeVar("C", bound=SandboxConfig)
C_contra = TypeVar("C_contra", bound=SandboxConfig, contravariant=True)
S = TypeVar("S", bound=Sends)
S_co = TypeVar("S_co", bound=Sends, covariant=True)


class BuildsSandbox(Protocol[C_contra, S_co]):
    """A platform sandbox's constructor, in the words every platform shares."""

    def __call__(
        self,
        config: C_contra,
        *,
        webhook_client: httpx.AsyncClient | None,
        truth: TruthBook | None,
    ) -> S_co: ...


def from_options(build: BuildsSandbox[C, S], config_type: type[C], options: SandboxOptions) -> S:
    """The sandbox `build` makes from `options` (its platform's other settings left at
    their defaults), its notifications sent as the options say."""
    config = config_type(
        base_url=options.base_url,
        seed=options.seed,
        catalog_seed=options.catalog_seed,
        skus=options.skus,
        variant_share=options.variant_share,
        time_scale=options.time_scale,
    )
    sandbox = build(config, webhook_client=options.webhook_client, truth=options.truth)
    sandbox.outbound.configure(in_flight=options.webhooks_in_flight, poster=options.webhook_poster)
    return sandbox


class ServableSandbox(Protocol):
    @property
    def platform(self) -> str: ...

    @property
    def app(self) -> ASGIApp:
        """The ASGI app; its lifespan runs the sandbox's background work."""
        ...

    def credentials(self) -> Mapping[str, str]: ...


SandboxFactory = Callable[[SandboxOptions], ServableSandbox]
ReadyCallback = Callable[[str], None]
Served = TypeVar("Served", bound=ServableSandbox)


def write_ready_line(line: str) -> None:
    """Default `ready`: the one JSON line on stdout a parent process waits for."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ready_line(sandbox: ServableSandbox, base_url: str) -> str:
    return json.dumps(
        {
            "platform": sandbox.platform,
            "base_url": base_url,
            "admin_url": base_url + ADMIN_PREFIX,
            "credentials": dict(sandbox.credentials()),
        }
    )


async def serve_sandbox(
    factory: Callable[[SandboxOptions], Served],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 1,
    skus: int = 20,
    time_scale: float = 1.0,
    ready: ReadyCallback = write_ready_line,
    announce: Callable[[Served, str], str] = ready_line,
) -> None:
    """Bind (port 0 picks a free port), build the sandbox, call `ready` once with what
    `announce` says of it (a JSON line) when listening, then serve until cancelled."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP given: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    base_url = _base_url(host, sock.getsockname()[1])
    options = SandboxOptions(base_url=base_url, seed=seed, skus=skus, time_scale=time_scale)
    sandbox = factory(options)
    config = uvicorn.Config(sandbox.app, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        await _until_started(server, serving)
        ready(announce(sandbox, base_url))
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise
    finally:
        sock.close()


def _base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def _until_started(server: uvicorn.Server, serving: asyncio.Future[None]) -> None:
    while not server.started:
        if serving.done():
            serving.result()  # re-raises why the server stopped before starting
            raise RuntimeError("uvicorn stopped before it started listening")
        await asyncio.sleep(0.01)
