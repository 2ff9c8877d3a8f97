"""ASGI middleware that applies the fault verdict to each API request and logs the call.

Admin paths (`/_sandbox/...`) bypass it: the harness must always be able to reach the sandbox.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnistock.kit.sandbox.common.calls import CallRecord
from omnistock.kit.sandbox.common.core import ITEMS_STATE_KEY, SandboxCore
from omnistock.kit.sandbox.common.faults import Action, Verdict

ADMIN_PREFIX = "/_sandbox"

OperationNamer = Callable[[str, str], str]
FaultRenderer = Callable[[int, float | None], Response]


class SandboxConnectionResetError(ConnectionResetError):
    """Raised after the response headers were sent, so the client sees a cut connection."""


class FaultMiddleware:
    """Latency, injected errors, hangs, resets and host capacity, then the real app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        core: SandboxCore,
        operation_of: OperationNamer,
        render_fault: FaultRenderer,
    ) -> None:
        self._app = app
        self._core = core
        self._operation_of = operation_of
        self._render_fault = render_fault
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self._app(scope, receive, send)
            return
        scope.setdefault("state", {})
        seen = _StatusSpy(send)
        started = time.perf_counter()
        verdict = self._core.faults.verdict()
        try:
            await self._admit(scope, receive, seen, verdict)
        finally:
            self._record(scope, seen.status, started, verdict.action is not Action.PROCEED)

    async def _admit(self, scope: Scope, receive: Receive, send: Send, verdict: Verdict) -> None:
        settings = self._core.faults.settings
        limit = settings.max_in_flight
        if limit is not None and self.in_flight >= limit:
            fault = self._render_fault(settings.capacity_status, settings.capacity_retry_after_s)
            await fault(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await asyncio.sleep(verdict.delay_s)
            await self._apply(scope, receive, send, verdict)
        finally:
            self.in_flight -= 1

    async def _apply(self, scope: Scope, receive: Receive, send: Send, verdict: Verdict) -> None:
        if verdict.action is Action.FAIL:
            await self._render_fault(verdict.status, verdict.retry_after_s)(scope, receive, send)
            return
        if verdict.action is Action.RESET:
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-length", b"64")],
                }
            )
            raise SandboxConnectionResetError("sandbox outage: connection reset")
        if verdict.action is Action.HANG:
            # Hang past the client's timeout, then do the work anyway: a timed-out write may
            # still have been applied, as on a real slow host.
            await asyncio.sleep(self._core.faults.settings.hang_s)
        await self._app(scope, receive, send)

    def _record(self, scope: Scope, status: int, started: float, faulted: bool) -> None:
        items = scope["state"].get(ITEMS_STATE_KEY, 0)
        self._core.calls.record(
            CallRecord(
                operation=self._operation_of(scope["method"], scope["path"]),
                items=items if isinstance(items, int) else 0,
                status=status,
                at=self._core.clock.now(),
                duration_ms=(time.perf_counter() - started) * 1000,
                faulted=faulted,
            )
        )


class _StatusSpy:
    """Wraps `send` to remember the status the client was given (0 if none)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self._send(message)
