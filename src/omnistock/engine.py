"""The engine in one process: inbox processing, a dispatcher and a poller per account,
reservation expiry, downstream notifications, and one HTTP app (webhooks + API).

Built by the composition root (cli.py) from a store and one adapter per account; every
loop stops when `stop` is set, and a restart resumes from what the database holds."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from omnistock.adapters.base import ChannelAdapter
from omnistock.api.app import create_api
from omnistock.api.common import authorize
from omnistock.bus.inbox import Incident, IncidentKind
from omnistock.clock import Clock, Timer, sleep_or_stop
from omnistock.dispatch.circuit import CircuitState
from omnistock.dispatch.dispatcher import AccountDispatcher, DispatchSettings
from omnistock.domain.account_settings import OversellAction
from omnistock.domain.errors import ChannelError
from omnistock.domain.ids import AccountId, ListingId
from omnistock.ingest.listing_index import ListingIndex
from omnistock.ingest.orders import DriftObservation
from omnistock.ingest.pollers import OrderPoller, PollInterval
from omnistock.ingest.processor import InboxProcessor, ProcessReport
from omnistock.ingest.webhooks import PREFIX as WEBHOOKS_PREFIX
from omnistock.ingest.webhooks import webhook_app
from omnistock.ledger.notifications import Topic
from omnistock.ledger.store import Store
from omnistock.notify.deliverer import WebhookDeliverer
from omnistock.notify.feeds import FeedPublisher
from omnistock.security.tokens import Scope as TokenScope

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineSettings:
    process_batch: int = 500
    sweep_s: float = 1.0  # reservation expiry and circuit watch
    reconcile_every_s: float = 600.0  # read every channel, record and overwrite drift
    poll: PollInterval = field(default_factory=PollInterval)
    # Another process may change the ledger without waking us: look again every second.
    dispatch: DispatchSettings = field(default_factory=lambda: DispatchSettings(idle=1.0))
    polling: bool = True
    # False leaves pushing to someone else: the benchmarks' baselines (periodic, per event)
    # run the same ingestion with their own way of writing to the channels.
    pushing: bool = True


@dataclass(slots=True)
class EngineStats:
    """What the inbox processing did since start (for the demo and metrics)."""

    items: int = 0
    applied: int = 0
    rejected: int = 0
    oversold: int = 0

    def add(self, report: ProcessReport) -> None:
        self.items += report.acked
        self.applied += report.applied
        self.rejected += report.rejected
        self.oversold += sum(i.kind is IncidentKind.OVERSOLD for i in report.incidents)


class Engine:
    def __init__(
        self,
        store: Store,
        adapters: Mapping[AccountId, ChannelAdapter],
        *,
        clock: Clock,
        timer: Timer,
        notify_client: httpx.AsyncClient,
        settings: EngineSettings | None = None,
    ) -> None:
        self._store = store
        self._adapters = dict(adapters)
        self._clock = clock
        self._timer = timer
        self._settings = settings or EngineSettings()
        self.processor = InboxProcessor(store, clock=clock)
        self.dispatchers = {
            a: AccountDispatcher(a, adapter, store, timer, clock, settings=self._settings.dispatch)
            for a, adapter in self._adapters.items()
        }
        self.pollers = {
            a: OrderPoller(
                a,
                adapter,
                store.inbox,
                timer=timer,
                interval=self._settings.poll,
                defer=self.dispatchers[a].poll_delay,
            )
            for a, adapter in self._adapters.items()
        }
        self.deliverer = WebhookDeliverer(store, notify_client, clock, timer)
        self.feeds = FeedPublisher(store, clock, self._settle_oversell)
        self._listings = ListingIndex(store, timer)
        self._circuits: dict[AccountId, CircuitState] = {}
        self._oversell_policy: dict[AccountId, OversellAction] = {}
        self.stats = EngineStats()

    def http_app(self) -> ASGIApp:
        """Channel webhooks under /webhooks/{account}; the API under /v1."""
        webhooks = webhook_app(self._adapters, self._store.inbox)
        health = Route("/v1/health", self._health, methods=["GET"])
        api = create_api(self._store, self._clock, self._timer, [health])

        async def route(scope: Scope, receive: Receive, send: Send) -> None:
            is_webhook = scope["type"] == "http" and scope["path"].startswith(WEBHOOKS_PREFIX)
            await (webhooks if is_webhook else api)(scope, receive, send)
            if not is_webhook and scope["type"] == "http" and scope["method"] != "GET":
                self._wake_dispatchers()  # the API may have changed stock: push it now

        return route

    async def health(self) -> dict[str, object]:
        """Per account: circuit, webhook health (share of orders only polling found), the
        poll interval, the push backlog and drift; and the inbox."""
        accounts: dict[str, object] = {}
        for account, dispatcher in self.dispatchers.items():
            poller = self.pollers[account]
            webhooks = poller.health()
            accounts[account] = {
                "circuit": dispatcher.circuit.state.value,
                "webhook_missed_ratio": round(webhooks.missed_ratio, 4),
                "orders_polled": webhooks.found,
                "orders_missed_by_webhooks": webhooks.missed,
                "poll_interval_s": round(poller.interval_s, 2),
                "dirty_listings": len(await self._store.sync.dirty(account, limit=100_000)),
                # Not pushed: no ledger event has told of their stock (see the dispatcher).
                "held_no_stock_known": len(await self._store.sync.held(account, limit=100_000)),
                "drift_listings": len(await self._store.sync.drift(account)),
            }
        inbox = await self._store.inbox.counts()
        return {
            "accounts": accounts,
            "inbox": {"pending": inbox.pending, "parked": inbox.parked},
            "processed": dataclasses.asdict(self.stats),
        }

    async def _health(self, request: Request) -> Response:
        await authorize(self._store, request, TokenScope.READ)
        return JSONResponse(await self.health())

    async def load_policies(self) -> None:
        """Read each account's oversell policy from the catalog (call after catalog edits)."""
        for account in await self._store.catalog.accounts():
            self._oversell_policy[account.id] = account.options().oversell

    async def run(self, stop: asyncio.Event) -> None:
        """Every loop of the engine until `stop` is set."""
        await self.load_policies()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(
                self.processor.run(
                    stop, limit=self._settings.process_batch, on_report=self._after_processing
                )
            )
            if self._settings.pushing:
                for dispatcher in self.dispatchers.values():
                    tg.create_task(dispatcher.run(stop))
            if self._settings.polling:
                for poller in self.pollers.values():
                    tg.create_task(_until(stop, poller.run(stop)))
            tg.create_task(self.deliverer.run(stop))
            tg.create_task(self._sweep(stop))

    async def first_sync(self, *, dry_run: bool) -> dict[AccountId, int]:
        """Push every listing of every account once (or show what would be written)."""
        counts = {}
        for account, dispatcher in self.dispatchers.items():
            report = await dispatcher.first_sync(dry_run=dry_run)
            counts[account] = len(report.updates)
        return counts

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """No dispatcher starts a pass meanwhile (see AccountDispatcher.held)."""
        with contextlib.ExitStack() as stack:
            for dispatcher in self.dispatchers.values():
                stack.enter_context(dispatcher.held())
            yield

    async def _after_processing(self, report: ProcessReport) -> None:
        self.stats.add(report)
        sold = {
            key: units
            for key, units in report.sold.items()
            if key[0] in self._adapters and self._adapters[key[0]].capabilities.compare_and_set
        }
        if sold:
            # Before the dispatchers wake: their writes then expect the channel's level
            # after its own sale. A write expecting the level before it is refused and costs
            # a read (Shopify: 3 points a row, measured draining the bucket under load), and
            # the sale's level report may come seconds later. Compare-and-set platforms
            # only: where the expectation was wrong, their refusal corrects it.
            await self._store.sync.sold_on_channel(sold)
        self._wake_dispatchers()
        await self._observe(report.observations)
        for account, sku in report.verify:
            if account in self.dispatchers:
                self.dispatchers[account].verify([sku])
        await self.feeds.publish_pending()

    async def _settle_oversell(self, incident: Incident) -> str:
        """The account's policy (setting `oversell`): `cancel` the order on the channel
        where the platform allows, else keep it as a backorder for the merchant to fill."""
        account = incident.account
        if account is None or incident.order_id is None:
            return "kept"
        if self._oversell_policy.get(account) is not OversellAction.CANCEL:
            return "kept"
        try:
            done = await self._adapters[account].cancel_order(incident.order_id, incident.reason)
        except ChannelError as exc:
            logger.warning("cancelling oversold order %s failed: %s", incident.order_id, exc)
            return "cancel_failed"
        return "cancelled" if done else "kept"

    def _wake_dispatchers(self) -> None:
        for dispatcher in self.dispatchers.values():
            dispatcher.wake()

    async def _observe(self, observations: tuple[DriftObservation, ...]) -> None:
        """A level set on the channel by someone else (its admin): drift, to overwrite."""
        levels: list[tuple[ListingId, int]] = []
        accounts: set[AccountId] = set()
        for seen in observations:
            listing = await self._listings.find(seen.account, seen.external_ids)
            if listing is not None:
                levels.append((listing, seen.quantity))
                accounts.add(seen.account)
        if levels and await self._store.sync.observed_many(levels):
            for account in accounts & self.dispatchers.keys():
                self.dispatchers[account].wake()

    async def reconcile(self) -> dict[AccountId, int]:
        """Read what every channel shows; drift (edits made in a platform's admin) is
        recorded and overwritten by the next pushes. A channel that cannot be read is
        skipped (and reported as -1) until the next round."""
        found: dict[AccountId, int] = {}
        for account, dispatcher in self.dispatchers.items():
            try:
                found[account] = await dispatcher.reconcile()
            except ChannelError as exc:
                logger.info("reconciling %s failed: %s", account, exc)
                found[account] = -1
        return found

    async def _sweep(self, stop: asyncio.Event) -> None:
        next_reconcile = self._timer.monotonic() + self._settings.reconcile_every_s
        while not stop.is_set():
            # Reconciling records drift for the dispatchers to overwrite: not when they are
            # off (the benchmarks' baselines write instead of them).
            if self._settings.pushing and self._timer.monotonic() >= next_reconcile:
                await self.reconcile()
                next_reconcile = self._timer.monotonic() + self._settings.reconcile_every_s
            expired = await self._store.reservations.expire_due(self._clock.now())
            if expired:
                self._wake_dispatchers()
            # Also what a crash left unpublished, and changes made outside the inbox
            # (checkout holds through the API).
            await self.feeds.publish_pending()
            await self._watch_circuits()
            await sleep_or_stop(self._timer, self._settings.sweep_s, stop)

    async def _watch_circuits(self) -> None:
        for account, dispatcher in self.dispatchers.items():
            state = dispatcher.circuit.state
            before = self._circuits.get(account, CircuitState.CLOSED)
            self._circuits[account] = state
            if state is CircuitState.OPEN and before is not CircuitState.OPEN:
                logger.warning("channel %s degraded: circuit open", account)
                await self._store.notifications.publish(
                    Topic.CHANNEL_DEGRADED,
                    {"account": account, "circuit": state.value},
                    self._clock.now(),
                )


async def _until(stop: asyncio.Event, work: Coroutine[Any, Any, None]) -> None:
    """Run a loop that only checks `stop` between its sleeps; cancel it when stop is set."""
    task = asyncio.ensure_future(work)
    await stop.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
