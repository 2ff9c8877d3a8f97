"""What the e2e reliability tests check and do beside the shoppers, over the kit's merchant
(`omnistock.kit.merchant`, set up by `omnistock.kit.rig`) selling through WooCommerce stores
with a shared truth: the merchant's back office, convergence, and the audit every
reliability test ends with.

The audit reads both sides: the orders each sandbox accepted, and the ledger's log,
outcomes, incidents, balances and listing sync state."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from omnistock.bus.inbox import IncidentKind
from omnistock.domain.balance import ZERO, Balance, apply
from omnistock.domain.events import EventType, StockReceived
from omnistock.domain.ids import AccountId, Sku
from omnistock.kit.merchant import MAIN, Merchant, MerchantStore, build_merchant
from omnistock.kit.sandbox.common.truth import TruthBook
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.kit.sandbox.woocommerce.store import WooOrder
from omnistock.ledger.journal import StoredEvent
from omnistock.ledger.store import Store

OCCURRED = "2026-11-27T10:00:00Z"


@dataclass(frozen=True, slots=True)
class Site:
    """One of the merchant's WooCommerce stores, with the emulator internals the audit reads
    (its orders and what it holds)."""

    store: MerchantStore

    @property
    def account(self) -> AccountId:
        return self.store.account

    @property
    def sandbox(self) -> WooSandbox:
        sandbox = self.store.sandbox
        assert isinstance(sandbox, WooSandbox)
        return sandbox


@dataclass
class Shop:
    """The kit's merchant selling through WooCommerce stores only, and the units the test put
    in stock (what the audit expects the ledger to have received)."""

    merchant: Merchant
    received: Counter[str] = field(default_factory=Counter)

    @property
    def sites(self) -> list[Site]:
        return [Site(s) for s in self.merchant.stores]

    @property
    def truth(self) -> TruthBook:
        return self.merchant.truth

    @property
    def skus(self) -> list[str]:
        return self.merchant.skus()


def build_shop(
    stores: int, skus: int, seed: int, webhook_client: httpx.AsyncClient | None = None
) -> Shop:
    """`stores` WooCommerce stores over one seeded catalog, sharing one truth book; served
    later (`serve_stores`), they send their notifications through `webhook_client`."""
    merchant = build_merchant(
        ["woocommerce"] * stores, skus, seed, variant_share=0.25, webhook_client=webhook_client
    )
    return Shop(merchant)


def opening_stock(shop: Shop, rng: random.Random) -> list[StockReceived]:
    """What the warehouse holds at the start (told to the truth book as well)."""
    levels = {sku: rng.randint(2, 12) for sku in shop.skus}
    shop.truth.set(levels)
    shop.received.update(levels)
    return [received_event(f"opening:{sku}", sku, qty) for sku, qty in levels.items()]


def received_event(key: str, sku: str, quantity: int) -> StockReceived:
    return StockReceived(
        idempotency_key=key,
        sku=Sku(sku),
        location=MAIN,
        quantity=quantity,
        source="e2e",
        occurred_at=datetime(2026, 11, 27, 10, tzinfo=UTC),
    )


def restock_body(shop: Shop, rng: random.Random) -> dict[str, object]:
    """A supplier delivery for POST /v1/events; the truth and `received` count it at once
    (the goods are on the shelf), so the caller must retry it until the API has it."""
    events = []
    for sku in rng.sample(shop.skus, k=2):
        qty = rng.randint(2, 6)
        shop.truth.set({sku: (shop.truth.available(sku) or 0) + qty})
        shop.received[sku] += qty
        events.append(
            {
                "type": "received",
                "sku": sku,
                "location": MAIN,
                "quantity": qty,
                "occurred_at": OCCURRED,
            }
        )
    return {"events": events}


def reactivate_webhooks(shop: Shop) -> int:
    """What the merchant does after an outage: WooCommerce disables a webhook after its 7th
    consecutive failed delivery and never re-enables it by itself."""
    revived = 0
    for site in shop.sites:
        for hook in site.sandbox.webhooks.hooks.values():
            if hook.status == "disabled":
                hook.status, hook.failure_count = "active", 0
                revived += 1
    return revived


def move_an_order(shop: Shop, rng: random.Random) -> None:
    """The merchant ships (completes) or cancels one open order in a random store."""
    site = rng.choice(shop.sites)
    open_orders = sorted(
        o.id for o in site.sandbox.store.orders.values() if o.status == "processing"
    )
    if not open_orders:
        return
    order = site.sandbox.store.orders[rng.choice(open_orders)]
    if rng.random() < 0.6:
        site.sandbox.store.set_order_status(order, "completed")
        return
    site.sandbox.store.set_order_status(order, "cancelled")
    for line in order.line_items:  # the units are back on the shelf
        shop.truth.set({line.sku: (shop.truth.available(line.sku) or 0) + line.quantity})


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float, *, every: float = 0.1
) -> float:
    """Seconds until `check()` held; TimeoutError after `within` seconds."""
    started = time.monotonic()
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polls state owned by other tasks/processes
            await asyncio.sleep(every)
    return time.monotonic() - started


@dataclass
class BackOffice:
    """The merchant's work beside the shoppers: deliveries through the API, shipping and
    cancelling orders."""

    shop: Shop
    url: str
    token: str
    rng: random.Random
    every_s: float = 1.5
    deliveries: int = 0
    retries: int = 0
    duplicates: int = 0

    async def deliver(self, stop: asyncio.Event) -> None:
        """A delivery every `every_s`; each is posted until the API answers it, so one
        whose answer was lost to a kill is sent again with the same key."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=5.0) as api:
            while not stop.is_set():
                self.deliveries += 1
                body = restock_body(self.shop, self.rng)
                key = {"Idempotency-Key": f"delivery-{self.deliveries}"}
                while True:
                    try:
                        response = await api.post("/v1/events", json=body, headers=key)
                    except httpx.TransportError:
                        response = None
                    if response is not None and response.status_code == 200:
                        break
                    assert response is None or response.status_code >= 500, response.text
                    self.retries += 1
                    await asyncio.sleep(0.2)
                statuses = {r["status"] for r in response.json()["results"]}
                assert statuses <= {"applied", "duplicate"}, response.text
                self.duplicates += "duplicate" in statuses
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.every_s)

    async def move_orders(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            move_an_order(self.shop, self.rng)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.4)


@contextlib.asynccontextmanager
async def running(back_office: BackOffice) -> AsyncIterator[None]:
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(back_office.deliver(stop))
        tg.create_task(back_office.move_orders(stop))
        try:
            yield
        finally:
            stop.set()


# --- convergence -----------------------------------------------------------------------------


async def divergence(store: Store, shop: Shop) -> list[str]:
    """Why the engine is not at rest and in sync with every store (empty: converged)."""
    problems = []
    counts = await store.inbox.counts()
    if counts.pending or counts.parked:
        problems.append(f"inbox: {counts.pending} pending, {counts.parked} parked")
    unsettled = await unsettled_lines(store, shop)
    if unsettled:
        problems.append(f"{len(unsettled)} order lines without a ledger outcome: {unsettled[:5]}")
    for site in shop.sites:
        dirty = await store.sync.dirty(site.account, limit=10_000)
        if dirty:
            problems.append(f"{site.account}: {len(dirty)} dirty listings")
        listings = await store.catalog.listings(site.account)
        states = await store.sync.get([x.id for x in listings])
        for listing in listings:
            shown = site.sandbox.store.find_sku(listing.sku)
            holder = None if shown is None else site.sandbox.store.stock_holder(shown)
            quantity = None if holder is None else holder.stock_quantity
            state = states[listing.id]
            if quantity != state.desired_qty:
                problems.append(
                    f"{listing.id}: shows {quantity}, desired {state.desired_qty}, "
                    f"pushed {state.pushed_qty} (seq {state.pushed_seq})"
                )
    return problems


async def explain(store: Store, shop: Shop) -> str:
    """`divergence`, with the history of each SKU a channel disagrees on: its ledger events
    and every order line the stores took for it, so that a failure in CI can be read."""
    problems = await divergence(store, shop)
    skus = {
        listing.sku
        for site in shop.sites
        for listing in await store.catalog.listings(site.account)
        if any(p.startswith(f"{listing.id}: shows ") for p in problems)
    }
    lines = [*problems]
    log = await _read_all(store) if skus else []
    for sku in sorted(skus):
        lines.append(f"history of {sku}:")
        lines.extend(
            f"  ledger #{s.position}: {s.event.type} {s.event.quantity} "
            f"{getattr(s.event, 'order_line', None) or s.event.source}"
            for s in log
            if s.event.sku == sku
        )
        lines.extend(
            f"  {site.account} order {o.id} ({o.status}): {line.quantity}"
            for site in shop.sites
            for o in site.sandbox.store.orders.values()
            for line in o.line_items
            if line.sku == sku
        )
    return "\n".join(lines)


async def drain(store: Store, shop: Shop, within: float) -> tuple[float, set[str]]:
    """Seconds until `divergence` is empty (TimeoutError after `within`), and the channel
    mismatches seen while the engine had nothing left to do (inbox empty, no dirty listing,
    every order line answered): those only a reconciliation (reading the channel) heals."""
    started = time.monotonic()
    unseen: set[str] = set()
    async with asyncio.timeout(within):
        while problems := await divergence(store, shop):
            if all(": shows " in p for p in problems):
                unseen.update(problems)
            await asyncio.sleep(0.1)
    return time.monotonic() - started, unseen


# The ledger action an order's status ends a placed line with (a completion or a
# cancellation changes no available quantity, so only this shows it has been seen).
_ENDING = {"completed": "fulfilled", "cancelled": "released"}


async def unsettled_lines(store: Store, shop: Shop) -> list[str]:
    """Order lines the sandboxes accepted whose placement the ledger has no answer for, or
    whose reservation stands although the store completed or cancelled the order."""
    lines = list(_lines(shop))
    keys = [_key(site.account, o, line_id, "reserved") for site, o, line_id in lines]
    endings = {
        key: _key(site.account, o, line_id, _ENDING[o.status])
        for key, (site, o, line_id) in zip(keys, lines, strict=True)
        if o.status in _ENDING
    }
    known = await store.inbox.known([*keys, *map(_closed, keys), *endings.values()])
    unsettled = [key for key in keys if key not in known and _closed(key) not in known]
    # A reservation that applied (None) must have been ended as the store ended the order.
    unsettled += [
        key
        for key, ending in endings.items()
        if key in known and known[key] is None and ending not in known
    ]
    return unsettled


def _lines(shop: Shop) -> Iterable[tuple[Site, WooOrder, int]]:
    for site in shop.sites:
        for order in site.sandbox.store.orders.values():
            for line in order.line_items:
                yield site, order, line.id


def _key(account: str, order: WooOrder, line_id: int, action: str) -> str:
    return f"order:{account}:{order.id}:{line_id}:{action}"


def _closed(reserved_key: str) -> str:
    return reserved_key.removesuffix(":reserved") + ":closed"


# --- the audit -------------------------------------------------------------------------------


@dataclass
class AuditReport:
    events: int
    order_lines: int
    reserved_lines: int
    oversold_lines: int
    closed_lines: int
    oversold_units_truth: int


async def audit(store: Store, shop: Shop) -> AuditReport:
    """Everything that must hold once the engine is at rest (assertions name the first
    difference): projections rebuild, every accepted order line applied exactly once or
    refused as an oversell, stock received exactly once, the ledger never negative."""
    report = await store.verify()
    assert report.ok, f"verify: {report.mismatches[:10]}"
    log = await _read_all(store)
    _assert_never_negative(log)
    by_line: dict[tuple[str, EventType], list[StoredEvent]] = defaultdict(list)
    for stored in log:
        order_line = getattr(stored.event, "order_line", None)
        if order_line is not None:
            by_line[(order_line, stored.event.type)].append(stored)
    oversold = {
        f"{i.account}:{i.order_id}:{i.line_id}": i
        for i in await store.inbox.incidents(1_000_000)
        if i.kind is IncidentKind.OVERSOLD
    }
    others = [
        i for i in await store.inbox.incidents(1_000_000) if i.kind is not IncidentKind.OVERSOLD
    ]
    assert not others, f"unexpected incidents: {others[:5]}"
    checker = _LineChecker(by_line, oversold)
    for site, order, line_id in _lines(shop):
        await checker.check(store, site, order, line_id)
    phantom = {ol for ol, _ in by_line} - checker.seen
    assert not phantom, f"ledger order lines no sandbox accepted: {sorted(phantom)[:5]}"
    assert set(oversold) <= checker.seen, "oversold incidents for unknown lines"
    _assert_received(log, shop)
    await _assert_balances(store, shop, checker)
    return AuditReport(
        events=len(log),
        order_lines=len(checker.seen),
        reserved_lines=checker.reserved,
        oversold_lines=len(oversold),
        closed_lines=checker.closed,
        oversold_units_truth=shop.truth.oversold_units,
    )


async def _read_all(store: Store) -> list[StoredEvent]:
    log: list[StoredEvent] = []
    while page := await store.ledger.read(log[-1].position if log else 0, 5_000):
        log.extend(page)
    return log


def _assert_never_negative(log: Sequence[StoredEvent]) -> None:
    """Replay the log: under `reject`, with only receipts, orders and shipments in it, no
    balance may ever have less on hand than zero or than it has promised."""
    balances: dict[tuple[str, str], Balance] = {}
    for stored in log:
        e = stored.event
        at = (e.sku, e.location)
        after = apply(balances.get(at, ZERO), e)
        assert after.reserved >= 0, f"reserved < 0 after #{stored.position}: {e}"
        assert after.available >= 0, f"reserved > on hand after #{stored.position}: {e}"
        balances[at] = after


def _assert_received(log: Sequence[StoredEvent], shop: Shop) -> None:
    got: Counter[str] = Counter()
    for stored in log:
        if stored.event.type is EventType.RECEIVED:
            got[stored.event.sku] += stored.event.quantity
    assert got == shop.received, "stock received differs from what was delivered"


class _LineChecker:
    """One sandbox order line against the ledger: what its status says must have happened."""

    def __init__(
        self,
        by_line: dict[tuple[str, EventType], list[StoredEvent]],
        oversold: Mapping[str, object],
    ) -> None:
        self._by_line = by_line
        self._oversold = oversold
        self.seen: set[str] = set()
        self.reserved = self.closed = 0
        self.open_units: Counter[str] = Counter()
        self.shipped_units: Counter[str] = Counter()

    async def check(self, store: Store, site: Site, order: WooOrder, line_id: int) -> None:
        line = next(x for x in order.line_items if x.id == line_id)
        ol = f"{site.account}:{order.id}:{line_id}"
        self.seen.add(ol)

        def events(kind: EventType) -> list[StoredEvent]:
            found = self._by_line.get((ol, kind), [])
            assert len(found) <= 1, f"{ol}: {kind} applied {len(found)} times"
            for stored in found:
                assert (stored.event.sku, stored.event.quantity) == (line.sku, line.quantity), ol
            return found

        reserved, released = events(EventType.RESERVED), events(EventType.RELEASED)
        fulfilled = events(EventType.FULFILLED)
        oversold = ol in self._oversold
        known = await store.inbox.known([_key(site.account, order, line_id, "closed")])
        closed = bool(known)
        assert not events(EventType.RETURNED), f"{ol}: returned, never refunded"
        assert len(reserved) + oversold + closed == 1, (
            f"{ol} ({order.status}): reserved {len(reserved)}, oversold {oversold}, "
            f"closed {closed}: must be exactly one"
        )
        if closed:
            assert order.status == "cancelled", f"{ol}: closed but {order.status}"
        self.reserved += len(reserved)
        self.closed += closed
        if not reserved:
            assert not released, f"{ol}: released without a reservation"
            assert not fulfilled, f"{ol}: fulfilled without a reservation"
            return
        expected = {"processing": (0, 0), "completed": (0, 1), "cancelled": (1, 0)}
        got = (len(released), len(fulfilled))
        assert got == expected[order.status], f"{ol} ({order.status}): released/fulfilled {got}"
        if order.status == "processing":
            self.open_units[line.sku] += line.quantity
        if order.status == "completed":
            self.shipped_units[line.sku] += line.quantity


async def _assert_balances(store: Store, shop: Shop, checker: _LineChecker) -> None:
    """Per SKU, the final balance is exactly what the sandboxes' orders and the deliveries
    say: on hand = received - shipped; reserved = lines placed and still open."""
    balances = await store.ledger.balances([Sku(s) for s in shop.skus])
    expected = {
        sku: Balance(shop.received[sku] - checker.shipped_units[sku], checker.open_units[sku])
        for sku in shop.skus
    }
    actual = {sku: balances.get(Sku(sku), {}).get(MAIN, ZERO) for sku in shop.skus}
    assert actual == expected


def explain_unsettled(database: str, shop: Shop, keys: Sequence[str]) -> list[str]:
    """For a failure message: what each store and the database know of these order lines."""
    import sqlite3

    notes = []
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        for key in keys[:8]:
            _, account, order_id, _line, _ = key.split(":")
            site = next(s for s in shop.sites if s.account == account)
            order = site.sandbox.store.orders[int(order_id)]
            seen = db.execute(
                "SELECT dedupe_key FROM inbox_keys WHERE dedupe_key LIKE ?",
                (f"woocommerce:{account}:order:{order_id}:%",),
            ).fetchall()
            prefix = (f"order:{account}:{order_id}:%",)
            outcomes = db.execute(
                "SELECT idempotency_key, rejection_code FROM outcomes WHERE idempotency_key LIKE ?",
                prefix,
            ).fetchall()
            marks = db.execute("SELECT key FROM ingest_marks WHERE key LIKE ?", prefix).fetchall()
            notes.append(
                f"{key}: {order.status} created {order.created} modified {order.modified}; "
                f"inbox saw {[k for (k,) in seen]}; outcomes {outcomes}; marks {marks}"
            )
        cursors = db.execute("SELECT account, cursor, updated_at FROM poll_cursors").fetchall()
    return [*notes, f"cursors: {cursors}"]
