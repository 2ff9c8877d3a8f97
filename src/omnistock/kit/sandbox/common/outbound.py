"""Outbound webhook delivery with the drop, duplicate, delay and reorder faults applied.

Platform packages sign and build each delivery; this module only moves bytes and reports outcomes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.faults import FaultInjector

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """The bytes and headers of one POST, built when it is sent."""

    body: bytes
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One HTTP POST to make; `subscription_id` ties the outcome back to its subscription.

    `render` runs at send time because platforms build the payload when the job runs, so a
    late delivery carries the resource as it is then, not as it was when the event fired.
    """

    subscription_id: int
    topic: str
    url: str
    render: Callable[[], Rendered]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryOutcome:
    """What happened to a delivery; `status` is None when no HTTP answer came back."""

    delivery: Delivery
    status: int | None
    at: float
    fault: str | None = None

    def to_json(self) -> dict[str, object]:
        d = self.delivery
        return {
            "subscription_id": d.subscription_id,
            "topic": d.topic,
            "url": d.url,
            "status": self.status,
            "at": self.at,
            "fault": self.fault,
        }


class DeliveryListener(Protocol):
    def delivered(self, outcome: DeliveryOutcome) -> None:
        """Called once per attempt that reached the network (not for dropped deliveries)."""
        ...


class Poster(Protocol):
    """Sends one POST: what the sandboxes' notifications go out through."""

    async def post(
        self, url: str, body: bytes, headers: Sequence[tuple[str, str]], timeout_s: float
    ) -> int | None:
        """The answer's status, or None when no answer came."""
        ...


class HttpxPoster:
    """POSTs through an httpx client (in process: ASGI; or over any network), or through a
    client of its own per POST when none is given."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client

    async def post(
        self, url: str, body: bytes, headers: Sequence[tuple[str, str]], timeout_s: float
    ) -> int | None:
        client = self._client or httpx.AsyncClient()
        try:
            response = await client.post(
                url, content=body, headers=list(headers), timeout=timeout_s, follow_redirects=False
            )
        except httpx.HTTPError as exc:
            logger.info("webhook to %s failed: %s", url, type(exc).__name__)
            return None
        finally:
            if self._client is None:
                await client.aclose()
        return response.status_code


@dataclass(slots=True)
class _Pending:
    count: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class WebhookSender:
    """Sends each subscription's deliveries from a queue of its own, `in_flight` at a
    time (1: in order); faults may drop, copy, delay or hold them. Platforms deliver many
    at once and promise no order: a receiver a loopback round trip away takes one delivery
    per round trip from a sender that waits for each answer, fewer than a busy store
    produces."""

    def __init__(
        self,
        *,
        clock: SandboxClock,
        faults: FaultInjector,
        listener: DeliveryListener,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._clock = clock
        self._faults = faults
        self._listener = listener
        self._poster: Poster = HttpxPoster(client)
        self._timeout = timeout_s
        # One queue per subscription: platforms deliver each subscription (topic and
        # address) on its own, so a flood of one topic does not hold up the others.
        self._queues: dict[int, asyncio.Queue[Delivery]] = {}
        self._group: asyncio.TaskGroup | None = None  # while running
        self._delayed: asyncio.Queue[Delivery] = asyncio.Queue()
        self._held: list[Delivery] = []
        self._pending = _Pending()
        self._pending.idle.set()
        self.outcomes: list[DeliveryOutcome] = []
        self.in_flight = 1  # deliveries sent at once (1: in order); set before `run`

    def configure(self, *, in_flight: int, poster: Poster | None) -> None:
        """Before `run`: send `in_flight` deliveries at once, through `poster` if given."""
        self.in_flight = in_flight
        if poster is not None:
            self._poster = poster

    def enqueue(self, delivery: Delivery) -> None:
        """Schedule a delivery, subject to the webhook faults in force now."""
        fate = self._faults.webhook_fate()
        if fate.drop:
            self._note(
                DeliveryOutcome(delivery=delivery, status=None, at=self._now(), fault="drop")
            )
            return
        for _ in range(2 if fate.duplicate else 1):
            self._track(+1)
            if fate.delay:
                self._delayed.put_nowait(delivery)
            elif fate.reorder:
                self._held.append(delivery)
            else:
                self._queue_of(delivery).put_nowait(delivery)

    async def send_now(self, delivery: Delivery) -> int | None:
        """Deliver immediately, bypassing faults and the queue (used for pings)."""
        return await self._post(delivery)

    async def run(self) -> None:
        """Deliver until cancelled."""
        try:
            async with asyncio.TaskGroup() as tg:
                self._group = tg
                tg.create_task(self._run_delayed(tg))
                for queue in self._queues.values():
                    self._start_sending(queue)
        finally:
            self._group = None

    def _queue_of(self, delivery: Delivery) -> asyncio.Queue[Delivery]:
        queue = self._queues.get(delivery.subscription_id)
        if queue is None:
            queue = self._queues[delivery.subscription_id] = asyncio.Queue()
            if self._group is not None:
                self._start_sending(queue)
        return queue

    def _start_sending(self, queue: asyncio.Queue[Delivery]) -> None:
        if self._group is None:
            raise RuntimeError("the sender is not running")
        for _ in range(max(self.in_flight, 1)):
            self._group.create_task(self._send_queued(queue))

    async def _send_queued(self, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await queue.get()
            await self._deliver(delivery)
            self._release_held()

    async def wait_idle(self) -> None:
        """Return once every scheduled delivery has been attempted; held ones are released."""
        self._release_held()
        await self._pending.idle.wait()

    async def _run_delayed(self, tg: asyncio.TaskGroup) -> None:
        while True:
            delivery = await self._delayed.get()
            tg.create_task(self._deliver_later(delivery))

    async def _deliver_later(self, delivery: Delivery) -> None:
        await self._clock.sleep(self._faults.settings.webhook_delay_s)
        await self._deliver(delivery)

    def _release_held(self) -> None:
        # Held deliveries go out after whatever was sent while they waited: a reorder.
        for delivery in self._held:
            self._queue_of(delivery).put_nowait(delivery)
        self._held.clear()

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            status = await self._post(delivery)
            outcome = DeliveryOutcome(delivery=delivery, status=status, at=self._now())
            self._note(outcome)
            self._listener.delivered(outcome)
        finally:
            self._track(-1)

    async def _post(self, delivery: Delivery) -> int | None:
        rendered = delivery.render()
        return await self._poster.post(delivery.url, rendered.body, rendered.headers, self._timeout)

    def _note(self, outcome: DeliveryOutcome) -> None:
        self.outcomes.append(outcome)

    def _track(self, change: int) -> None:
        self._pending.count += change
        if self._pending.count:
            self._pending.idle.clear()
        else:
            self._pending.idle.set()

    def _now(self) -> float:
        return self._clock.now()

    def summary(self) -> dict[str, int]:
        return _summarise(self.outcomes)


def _summarise(outcomes: Sequence[DeliveryOutcome]) -> dict[str, int]:
    sent = [o for o in outcomes if o.fault is None]
    return {
        "attempted": len(sent),
        "succeeded": sum(1 for o in sent if o.status is not None and 200 <= o.status < 300),
        "failed": sum(1 for o in sent if o.status is None or not 200 <= o.status < 300),
        "dropped": sum(1 for o in outcomes if o.fault == "drop"),
    }
