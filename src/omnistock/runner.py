"""`omnistock run`: the engine for real accounts, from a TOML configuration.

Opens the store, applies the configured catalog, builds each account's adapter with its
credentials (environment first, then the encrypted vault), serves webhooks and the API,
and runs the engine until `stop` is set."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import httpx
import uvicorn

from omnistock.adapters.base import ChannelAdapter
from omnistock.adapters.registry import PLATFORMS
from omnistock.clock import SystemClock, SystemTimer, Timer
from omnistock.domain.errors import ConfigError
from omnistock.domain.ids import AccountId
from omnistock.engine import Engine
from omnistock.engine_config import Catalog, EngineConfig
from omnistock.ledger.store import Store
from omnistock.security.vault import CredentialVault, credentials_for


async def apply_catalog(store: Store, catalog: Catalog) -> None:
    """Make the store's catalog what the configuration says (creating or updating)."""
    for location in catalog.locations:
        await store.catalog.put_location(location)
    await store.catalog.put_items(catalog.items)
    for bundle in catalog.bundles:
        await store.catalog.put_bundle(bundle)
    for account in catalog.accounts:
        await store.catalog.put_account(account)
    await store.catalog.put_listings(catalog.listings)


def build_adapters(
    catalog: Catalog,
    vault: CredentialVault | None,
    environ: Mapping[str, str],
    timer: Timer,
) -> dict[AccountId, ChannelAdapter]:
    adapters: dict[AccountId, ChannelAdapter] = {}
    for account in catalog.accounts:
        platform = PLATFORMS.get(account.platform)
        if platform is None:
            raise ConfigError(f"account {account.id}: unknown platform {account.platform!r}")
        secrets = credentials_for(account.id, platform.credentials, vault, environ)
        settings = platform.settings.of(account.settings, f"account {account.id} settings")
        adapters[account.id] = platform.create_adapter(account.id, settings, secrets, timer=timer)
    return adapters


async def run_engine(
    config: EngineConfig,
    *,
    vault: CredentialVault | None,
    environ: Mapping[str, str],
    stop: asyncio.Event,
    first_sync: bool = True,
) -> None:
    """Everything `omnistock run` does, until `stop` is set."""
    catalog = Catalog(config)
    clock, timer = SystemClock(), SystemTimer()
    store = await Store.open(config.database_url, policy=config.reservation_policy)
    adapters = build_adapters(catalog, vault, environ, timer)
    try:
        await apply_catalog(store, catalog)
        async with httpx.AsyncClient(follow_redirects=False) as notify:
            engine = Engine(store, adapters, clock=clock, timer=timer, notify_client=notify)
            async with asyncio.TaskGroup() as tg:
                # Listen first: webhooks sent during the first sync must not be lost.
                tg.create_task(_serve(engine, config.listen, stop))
                if first_sync:
                    await engine.first_sync(dry_run=False)
                tg.create_task(engine.run(stop))
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        await store.close()


async def _serve(engine: Engine, listen: str, stop: asyncio.Event) -> None:
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise ConfigError(f"listen: expected host:port, got {listen!r}")
    config = uvicorn.Config(
        engine.http_app(),
        host=host or "127.0.0.1",
        port=int(port),
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def dry_run(
    config: EngineConfig, *, vault: CredentialVault | None, environ: Mapping[str, str]
) -> dict[AccountId, int]:
    """How many listings the first sync would write per account, writing nothing."""
    catalog = Catalog(config)
    timer = SystemTimer()
    store = await Store.open(config.database_url, policy=config.reservation_policy)
    adapters = build_adapters(catalog, vault, environ, timer)
    try:
        await apply_catalog(store, catalog)
        async with httpx.AsyncClient() as notify:
            engine = Engine(store, adapters, clock=SystemClock(), timer=timer, notify_client=notify)
            return await engine.first_sync(dry_run=True)
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        await store.close()
