"""Sandbox-only admin endpoints under `/_sandbox/`: faults, calls, truth, stats, shoppers.

They are what a harness uses over HTTP; in-process tests may call the same objects directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.kit.sandbox.common.middleware import ADMIN_PREFIX

ExtraStats = Callable[[], dict[str, object]]


class AdminBadRequestError(ValueError):
    """An admin request body that cannot be used."""


async def read_json(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"null")
    except json.JSONDecodeError as exc:
        raise AdminBadRequestError(f"body is not JSON: {exc.msg}") from exc


def bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


class AdminApi:
    """The shared admin routes; `extra_stats` adds the platform's own counters."""

    def __init__(self, core: SandboxCore, extra_stats: ExtraStats | None = None) -> None:
        self._core = core
        self._extra_stats = extra_stats

    def routes(self) -> list[Route]:
        p = ADMIN_PREFIX
        return [
            Route(f"{p}/faults", self.get_faults, methods=["GET"]),
            Route(f"{p}/faults", self.put_faults, methods=["PUT"]),
            Route(f"{p}/calls", self.get_calls, methods=["GET"]),
            Route(f"{p}/calls", self.clear_calls, methods=["DELETE"]),
            Route(f"{p}/truth", self.get_truth, methods=["GET"]),
            Route(f"{p}/truth", self.put_truth, methods=["PUT"]),
            Route(f"{p}/stats", self.get_stats, methods=["GET"]),
            Route(f"{p}/shoppers", self.get_shoppers, methods=["GET"]),
            Route(f"{p}/shoppers", self.put_shoppers, methods=["PUT"]),
            Route(f"{p}/shoppers/start", self.start_shoppers, methods=["POST"]),
            Route(f"{p}/shoppers/stop", self.stop_shoppers, methods=["POST"]),
        ]

    async def get_faults(self, request: Request) -> Response:
        return JSONResponse(self._core.faults.to_json())

    async def put_faults(self, request: Request) -> Response:
        try:
            settings = FaultSettings.model_validate(await read_json(request))
        except (ValidationError, AdminBadRequestError) as exc:
            return bad_request(str(exc))
        self._core.faults.apply(settings)
        return JSONResponse(self._core.faults.to_json())

    async def get_calls(self, request: Request) -> Response:
        calls = self._core.calls
        records = [c.to_json() for c in calls.records()]
        return JSONResponse({"calls": records, "by_operation": calls.by_operation()})

    async def clear_calls(self, request: Request) -> Response:
        self._core.calls.clear()
        return Response(status_code=204)

    async def get_truth(self, request: Request) -> Response:
        return JSONResponse(self._core.truth.snapshot())

    async def put_truth(self, request: Request) -> Response:
        try:
            levels = _levels(await read_json(request))
        except AdminBadRequestError as exc:
            return bad_request(str(exc))
        self._core.truth.set(levels)
        return JSONResponse(self._core.truth.snapshot())

    async def get_stats(self, request: Request) -> Response:
        extra = self._extra_stats() if self._extra_stats else {}
        return JSONResponse({**self._core.stats(), **extra})

    async def get_shoppers(self, request: Request) -> Response:
        return JSONResponse({"rate": self._core.shoppers.rate})

    async def put_shoppers(self, request: Request) -> Response:
        return await self._set_rate(request, default=None)

    async def start_shoppers(self, request: Request) -> Response:
        return await self._set_rate(request, default=1.0)

    async def stop_shoppers(self, request: Request) -> Response:
        self._core.shoppers.set_rate(0.0)
        return JSONResponse({"rate": 0.0})

    async def _set_rate(self, request: Request, default: float | None) -> Response:
        try:
            rate = _rate(await read_json(request), default)
        except AdminBadRequestError as exc:
            return bad_request(str(exc))
        self._core.shoppers.set_rate(rate)
        return JSONResponse({"rate": rate})


def _levels(body: object) -> dict[str, int]:
    if not isinstance(body, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in body.values()
    ):
        raise AdminBadRequestError('expected {"SKU": integer, ...}')
    return {str(k): int(v) for k, v in body.items()}


def _rate(body: object, default: float | None) -> float:
    raw = body.get("rate", default) if isinstance(body, dict) else default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise AdminBadRequestError('expected {"rate": orders per second >= 0}')
    return float(raw)
