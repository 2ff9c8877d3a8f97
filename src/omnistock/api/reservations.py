"""Checkout reservations over HTTP, for a headless storefront or a POS.

POST /v1/reservations holds every line or none for `ttl_s` seconds; …/confirm keeps them,
…/release gives them back; expiry releases them by itself (the engine sweeps)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnistock.api.common import ApiError, authorize, idempotency_key, invalid_body, read_body
from omnistock.clock import Clock
from omnistock.domain.ids import LocationId, Sku, check_identifier
from omnistock.ledger.reservations import MAX_LINES, Reservation, ReservationLine, ReservationStatus
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    sku: str
    location: str
    quantity: int


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    lines: list[_Line] = Field(min_length=1, max_length=MAX_LINES)
    ttl_s: int = Field(default=900, ge=1, le=7 * 24 * 3600)


def reservation_routes(store: Store, clock: Clock) -> list[Route]:
    async def hold(request: Request) -> Response:
        token = await authorize(store, request, Scope.WRITE)
        rid = f"rsv:{idempotency_key(request)}"
        try:
            body = HoldRequest.model_validate_json(await read_body(request))
        except ValidationError as exc:
            raise invalid_body(exc) from None
        lines = [
            ReservationLine(Sku(x.sku), LocationId(x.location), x.quantity) for x in body.lines
        ]
        ttl = timedelta(seconds=body.ttl_s)
        held = await store.reservations.hold(rid, lines, ttl, f"api:{token.name}", clock.now())
        status = 409 if held.status is ReservationStatus.REJECTED else 201
        return JSONResponse(_json(held), status_code=status)

    async def show(request: Request) -> Response:
        await authorize(store, request, Scope.READ)
        return JSONResponse(_json(await _find(store, request)))

    async def confirm(request: Request) -> Response:
        await authorize(store, request, Scope.WRITE)
        found = await _find(store, request)
        return JSONResponse(_json(await store.reservations.confirm(found.id)))

    async def release(request: Request) -> Response:
        await authorize(store, request, Scope.WRITE)
        found = await _find(store, request)
        return JSONResponse(_json(await store.reservations.release(found.id, clock.now())))

    return [
        Route("/v1/reservations", hold, methods=["POST"]),
        Route("/v1/reservations/{rid}", show, methods=["GET"]),
        Route("/v1/reservations/{rid}/confirm", confirm, methods=["POST"]),
        Route("/v1/reservations/{rid}/release", release, methods=["POST"]),
    ]


async def _find(store: Store, request: Request) -> Reservation:
    rid = check_identifier("reservation", request.path_params["rid"], 256)
    found = await store.reservations.get(rid)
    if found is None:
        raise ApiError(404, "unknown_reservation", f"no reservation {rid!r}")
    return found


def _json(reservation: Reservation) -> dict[str, object]:
    return {
        "id": reservation.id,
        "status": reservation.status.value,
        "lines": [
            {"sku": x.sku, "location": x.location, "quantity": x.quantity}
            for x in reservation.lines
        ],
        "created_at": reservation.created_at.isoformat(),
        "expires_at": reservation.expires_at.isoformat(),
        "reason": reservation.reason,
    }
