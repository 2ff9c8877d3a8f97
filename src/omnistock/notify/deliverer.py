"""Delivery of notifications to subscribers' URLs, signed, retried with backoff.

A delivery that keeps failing is given up after `max_attempts` and stays visible as failed;
one slow or broken subscriber never holds up another (each delivery has its own row)."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

import httpx

from omnistock.adapters.backoff import full_jitter
from omnistock.adapters.http import retry_after_seconds, safe_url
from omnistock.clock import Clock, Timer
from omnistock.ledger.notifications import DueDelivery
from omnistock.ledger.store import Store
from omnistock.notify.signing import HEADER, sign

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    max_attempts: int = 12
    base_s: float = 5.0
    cap_s: float = 3600.0
    timeout_s: float = 10.0
    batch: int = 100


@dataclass(slots=True)
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


class WebhookDeliverer:
    def __init__(
        self,
        store: Store,
        client: httpx.AsyncClient,
        clock: Clock,
        timer: Timer,
        *,
        policy: DeliveryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._clock = clock
        self._timer = timer
        self._policy = policy or DeliveryPolicy()
        self._rng = rng or random.Random()

    async def run_once(self) -> DeliveryReport:
        """Attempt every delivery that is due now, concurrently."""
        report = DeliveryReport()
        due = await self._store.notifications.due(self._clock.now(), self._policy.batch)
        await asyncio.gather(*(self._deliver(d, report) for d in due))
        return report

    async def run(self, stop: asyncio.Event, idle_s: float = 1.0) -> None:
        while not stop.is_set():
            report = await self.run_once()
            if not (report.delivered or report.retried or report.failed):
                await self._timer.sleep(idle_s)

    async def _deliver(self, due: DueDelivery, report: DeliveryReport) -> None:
        body = due.notification.payload.encode()
        stamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            HEADER: sign(due.secret, stamp, body),
            "X-Omnistock-Topic": due.notification.topic.value,
            "X-Omnistock-Delivery": str(due.notification.id),
        }
        error, retry_after = await self._post(due, body, headers)
        sub, nid = due.subscription.id, due.notification.id
        if error is None:
            await self._store.notifications.delivered(sub, nid)
            report.delivered += 1
        elif due.attempts + 1 >= self._policy.max_attempts:
            await self._store.notifications.give_up(sub, nid, error)
            report.failed += 1
        else:
            delay = max(retry_after or 0.0, self._backoff(due.attempts))
            at = self._clock.now() + timedelta(seconds=delay)
            await self._store.notifications.retry(sub, nid, error, at)
            report.retried += 1

    async def _post(
        self, due: DueDelivery, body: bytes, headers: dict[str, str]
    ) -> tuple[str | None, float | None]:
        try:
            response = await self._client.post(
                due.subscription.url, content=body, headers=headers, timeout=self._policy.timeout_s
            )
        except httpx.HTTPError as exc:
            logger.info(
                "delivery to %s failed: %s", safe_url(due.subscription.url), type(exc).__name__
            )
            return type(exc).__name__, None
        if 200 <= response.status_code < 300:
            return None, None
        return f"HTTP {response.status_code}", retry_after_seconds(
            response.headers.get("retry-after")
        )

    def _backoff(self, attempts: int) -> float:
        policy = self._policy
        # Full jitter above a floor of the base delay, so retries never hammer at once.
        return policy.base_s + full_jitter(
            attempts, base=policy.base_s, cap=policy.cap_s, rng=self._rng
        )
