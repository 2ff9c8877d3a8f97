"""The parts of a sandbox face that are the same on every platform: fault controls in the
adapter contract's words (fail the next call, a 429 storm, an error rate, timeouts, an
outage, duplicated webhooks), the call log as the contract counts it, the manual clock
and its timer, paced orders, and the webhooks caught in memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import httpx

from omnistock.kit.sandbox.common.calls import CallRecord
from omnistock.kit.sandbox.common.clock import ManualClock, SandboxClock, SandboxTimer
from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.face_records import Call, CaughtWebhooks, Delivery
from omnistock.kit.sandbox.common.faults import FaultSettings, Window
from omnistock.kit.sandbox.common.outbound import WebhookSender
from omnistock.kit.sandbox.common.truth import OrderLine


class _Addressed(Protocol):
    @property
    def base_url(self) -> str: ...


class _Sends(Protocol):
    @property
    def outbound(self) -> WebhookSender: ...

    def caught(self) -> list[Delivery]: ...


class _Recorded(Protocol):
    core: SandboxCore

    def is_write(self, call: CallRecord) -> bool: ...


class FaceControls:
    """Mixed into a platform's sandbox face, after its emulator class. A face built to be
    driven by tests (`on_manual_clock`) calls `catch` once, right after construction."""

    clock: SandboxClock  # the emulator's
    core: SandboxCore  # the emulator's
    # A face served to a merchant sends its webhooks out and keeps the default hang.
    _caught: CaughtWebhooks | None = None
    _hang_s: float = 1.0
    _timer: SandboxTimer | None = None
    _seeded: int = 0

    def catch(self, caught: CaughtWebhooks, *, hang_s: float) -> None:
        """Keep the webhooks `caught` (the emulator sends through `caught.client`); hang
        `hang_s` real seconds on an injected timeout; give adapters a timer that moves
        the manual clock (counted from now)."""
        self._caught, self._hang_s = caught, hang_s
        self._timer = SandboxTimer(self.manual_clock)

    @property
    def manual_clock(self) -> ManualClock:
        """The clock a test moves; only a sandbox built on a ManualClock has one."""
        if not isinstance(self.clock, ManualClock):
            raise RuntimeError("this sandbox runs on a scaled clock, not a manual one")
        return self.clock

    @property
    def timer(self) -> SandboxTimer:
        """The adapter's timer: sleeping on it moves the sandbox's manual clock."""
        if self._timer is None:
            raise RuntimeError("only a sandbox built on a manual clock gives adapters a timer")
        return self._timer

    def api_url(self: _Addressed, server_url: str | None = None) -> str:
        """The adapter's base URL, on `server_url` when served, else the sandbox's own."""
        return (server_url or self.base_url).rstrip("/")

    def caught(self) -> list[Delivery]:
        """Every webhook caught in memory since the last call."""
        if self._caught is None:
            raise RuntimeError("this sandbox sends its webhooks out; none are caught in memory")
        return self._caught.take()

    async def deliveries(self: _Sends) -> list[Delivery]:
        """Every webhook delivered since the last call, once delivery has gone idle."""
        await self.outbound.wait_idle()
        return self.caught()

    def next_number(self) -> int:
        """1, 2, 3, …: numbers the SKUs a test seeds."""
        self._seeded += 1
        return self._seeded

    # --- the call log ----------------------------------------------------------------

    def calls(self: _Recorded) -> list[Call]:
        return [
            Call(self.is_write(c), c.items, c.status, c.faulted) for c in self.core.calls.records()
        ]

    def reset_calls(self) -> None:
        self.core.calls.clear()

    # --- orders ----------------------------------------------------------------------

    def place_paced(
        self,
        skus: Sequence[str],
        count: int,
        *,
        per_second: int,
        place: Callable[[list[OrderLine]], str],
        then_s: float = 1.0,
    ) -> list[str]:
        """`count` orders of one unit each, round the `skus`, `per_second` of them in each
        platform second; then `then_s` more seconds pass."""
        ids = []
        clock = self.manual_clock
        for n in range(count):
            if n and n % per_second == 0:
                clock.advance(1)
            ids.append(place([OrderLine(sku=skus[n % len(skus)], quantity=1)]))
        clock.advance(then_s)
        return ids

    # --- faults ----------------------------------------------------------------------

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        self.core.faults.next_response(status=status, retry_after_s=retry_after)

    def storm_429(self, seconds: float, retry_after: float) -> None:
        self._apply(storm_429=Window(duration_s=seconds, retry_after_s=retry_after))

    def error_rate(self, status: int, rate: float) -> None:
        self._apply(error_rates={status: rate})

    def timeouts(self, rate: float) -> None:
        self._apply(timeout_rate=rate, hang_s=self._hang_s)

    def outage(self, seconds: float) -> None:
        self._apply(outage=Window(duration_s=seconds, retry_after_s=None))

    def duplicate_webhooks(self) -> None:
        self._apply(webhook_duplicate_rate=1.0)

    def clear_faults(self) -> None:
        self.core.faults.apply(FaultSettings())

    def _apply(self, **settings: object) -> None:
        self.core.faults.apply(FaultSettings.model_validate(settings))


C_contra = TypeVar("C_contra", contravariant=True)
F = TypeVar("F", bound=FaceControls)
F_co = TypeVar("F_co", bound=FaceControls, covariant=True)


class BuildsFace(Protocol[C_contra, F_co]):
    def __call__(
        self, config: C_contra, *, clock: SandboxClock | None, webhook_client: httpx.AsyncClient
    ) -> F_co: ...


def build_on_manual_clock(
    build: BuildsFace[C_contra, F], config: C_contra, *, signature_header: str, hang_s: float
) -> F:
    """The face `build` makes of `config` on a clock only the test moves, its webhooks
    (signed in `signature_header`) caught in memory."""
    caught = CaughtWebhooks(signature_header)
    face = build(config, clock=ManualClock(), webhook_client=caught.client)
    face.catch(caught, hang_s=hang_s)
    return face
