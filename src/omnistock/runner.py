"""`omnistock run`: the engine for real accounts, from a TOML configuration.

Opens the store, applies the configured catalog, builds each account's adapter with its
credentials (environment first, then the encrypted vault), serves webhooks and the API,
and runs the engine until `stop` is set."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence

import httpx
import uvicorn

from omnistock.adapters.base import ChannelAdapter
from omnistock.adapters.registry import PLATFORMS
from omnistock.clock import SystemClock, SystemTimer, Timer
from omnistock.dispatch.plan import Progress, read_plan
from omnistock.dispatch.report import FirstSyncReport
from omnistock.domain.catalog import ChannelAccount
from omnistock.domain.errors import ConfigError
from omnistock.domain.ids import AccountId
from omnistock.domain.sync_plan import SyncPlan
from omnistock.engine import Engine, EngineSettings
from omnistock.engine_config import Catalog, EngineConfig
from omnistock.ledger.migrations import SchemaNotReadyError
from omnistock.ledger.store import Store, display_url
from omnistock.security.vault import CredentialVault, credentials_for

Say = Callable[[str], None]  # a line for the operator's log


def _silent(_: str) -> None:
    pass


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


async def apply_declared(store: Store, catalog: Catalog) -> None:
    """The configuration's locations and accounts (not its items or listings, which a
    catalog file or discovery may own)."""
    for location in catalog.locations:
        await store.catalog.put_location(location)
    for account in catalog.accounts:
        await store.catalog.put_account(account)


def build_adapters(
    catalog: Catalog,
    vault: CredentialVault | None,
    environ: Mapping[str, str],
    timer: Timer,
    *,
    only: Collection[AccountId] | None = None,
) -> dict[AccountId, ChannelAdapter]:
    """Each account's adapter (those in `only`, if given), with its credentials;
    ConfigError naming the account and what it lacks."""
    adapters: dict[AccountId, ChannelAdapter] = {}
    for account in catalog.accounts:
        if only is not None and account.id not in only:
            continue
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
    settings: EngineSettings | None = None,
    say: Say = _silent,
) -> None:
    """Everything `omnistock run` does, until `stop` is set: the schema migrated (said),
    the config's catalog applied, each account's adapter built, the first push checked
    against the config's guard, webhooks and the API served, the engine run."""
    catalog = Catalog(config)
    clock, timer = SystemClock(), SystemTimer()
    store = await Store.open(
        config.database_url, policy=config.reservation_policy, schema="connect"
    )
    try:
        applied = await store.migrate()
        say(
            f"database {display_url(config.database_url)}: "
            + (f"applied {', '.join(applied)}" if applied else "schema current")
        )
        adapters = build_adapters(catalog, vault, environ, timer)
    except BaseException:
        await store.close()
        raise
    try:
        await apply_catalog(store, catalog)
        if first_sync:
            await _check_guard(store, catalog, adapters, config)
        async with httpx.AsyncClient(follow_redirects=False) as notify:
            engine = Engine(
                store,
                adapters,
                clock=clock,
                timer=timer,
                notify_client=notify,
                settings=engine_settings(config, settings),
            )
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


def engine_settings(config: EngineConfig, base: EngineSettings | None = None) -> EngineSettings:
    """The engine's settings as the config adjusts them (holding back unknown stock)."""
    settings = base or EngineSettings()
    dispatch = dataclasses.replace(
        settings.dispatch, hold_unknown_stock=not config.zero_unknown_stock
    )
    return dataclasses.replace(settings, dispatch=dispatch)


class FirstPushRefusedError(ConfigError):
    """The first push breaks the config's first_sync_guard: an operator must approve it."""


async def _check_guard(
    store: Store,
    catalog: Catalog,
    adapters: Mapping[AccountId, ChannelAdapter],
    config: EngineConfig,
) -> None:
    if config.first_sync_guard is None:
        return
    guard = config.first_sync_guard.guard()
    for account in catalog.accounts:
        plan = await read_plan(
            store,
            account,
            adapters[account.id],
            never_pushed=True,
            hold_unknown=not config.zero_unknown_stock,
        )
        why = guard.exceeded(plan)
        if why:
            raise FirstPushRefusedError(
                f"account {account.id}: first push refused: {'; '.join(why)}. Review it with "
                f"`omnistock sync plan {account.id}`, approve it with "
                f"`omnistock sync apply {account.id}`"
            )


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


@dataclasses.dataclass(frozen=True, slots=True)
class Plans:
    plans: dict[AccountId, SyncPlan]
    empty_ledger: bool  # the database does not exist yet: planned against an empty one


async def plan_sync(
    config: EngineConfig,
    *,
    vault: CredentialVault | None,
    environ: Mapping[str, str],
    accounts: Sequence[str] = (),
    progress: Callable[[AccountId], Progress] | None = None,
) -> Plans:
    """The first-push plan of `accounts` (default: every account), from the database and
    the config's catalog, reading the channels; writes nothing anywhere. A database that
    does not exist yet is planned as an empty ledger (every listing held back)."""
    catalog = Catalog(config)
    chosen = _accounts(catalog, accounts)
    timer = SystemTimer()
    empty = False
    try:
        store = await Store.open(
            config.database_url, policy=config.reservation_policy, schema="require"
        )
    except SchemaNotReadyError:
        store, empty = await Store.open("sqlite://"), True
    try:
        adapters = build_adapters(catalog, vault, environ, timer, only=[a.id for a in chosen])
        try:
            plans = {
                account.id: await read_plan(
                    store,
                    account,
                    adapters[account.id],
                    listings=catalog.listings,
                    bundles=catalog.bundles,
                    hold_unknown=not config.zero_unknown_stock,
                    progress=None if progress is None else progress(account.id),
                )
                for account in chosen
            }
        finally:
            for adapter in adapters.values():
                await adapter.aclose()
    finally:
        await store.close()
    return Plans(plans, empty)


async def apply_first_sync(
    config: EngineConfig,
    *,
    vault: CredentialVault | None,
    environ: Mapping[str, str],
    account: str,
) -> FirstSyncReport:
    """An operator's approval of `account`'s plan: the config's catalog applied and the
    account's first push made now (the guard, which it overrides, is not consulted)."""
    catalog = Catalog(config)
    [chosen] = _accounts(catalog, [account])
    timer = SystemTimer()
    store = await Store.open(
        config.database_url, policy=config.reservation_policy, schema="require"
    )
    try:
        adapters = build_adapters(catalog, vault, environ, timer, only=[chosen.id])
        try:
            await apply_catalog(store, catalog)
            async with httpx.AsyncClient() as notify:
                engine = Engine(
                    store,
                    adapters,
                    clock=SystemClock(),
                    timer=timer,
                    notify_client=notify,
                    settings=engine_settings(config),
                )
                return await engine.dispatchers[chosen.id].first_sync(dry_run=False)
        finally:
            for adapter in adapters.values():
                await adapter.aclose()
    finally:
        await store.close()


def _accounts(catalog: Catalog, names: Sequence[str]) -> list[ChannelAccount]:
    if not names:
        return list(catalog.accounts)
    by_id = {a.id: a for a in catalog.accounts}
    unknown = [n for n in names if n not in by_id]
    if unknown:
        known = ", ".join(by_id) or "none"
        raise ConfigError(f"unknown account {', '.join(unknown)} (the config has: {known})")
    return [by_id[AccountId(n)] for n in names]
