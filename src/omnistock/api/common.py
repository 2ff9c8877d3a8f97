"""What every API route shares: refusals with a status and a code, bearer-token checks,
bounded body reading, and the mapping of domain errors to 4xx answers."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.domain.errors import (
    ConcurrencyConflictError,
    IdempotencyConflictError,
    InvalidInputError,
    StorageBusyError,
    UnknownEntityError,
)
from omnistock.domain.ids import MAX_ID_LENGTH, check_identifier
from omnistock.ledger.reservations import ReservationStateError
from omnistock.ledger.store import Store
from omnistock.ledger.tokens import StoredToken
from omnistock.security.tokens import Scope, allows, digest

MAX_BODY_BYTES = 1 << 20


class ApiError(Exception):
    """A refused request: its status, a stable code and a message for the caller."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


async def authorize(store: Store, request: Request, needed: Scope) -> StoredToken:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    found = await store.tokens.find(digest(token.strip()))
    if found is None:
        raise ApiError(401, "unauthenticated", "unknown or revoked token")
    if not allows(Scope(found.scope), needed):
        raise ApiError(403, "forbidden", f"this route needs the {needed.value!r} scope")
    return found


def idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "")
    try:
        return check_identifier("Idempotency-Key", key, MAX_ID_LENGTH)
    except InvalidInputError as exc:
        raise ApiError(400, "invalid_idempotency_key", str(exc)) from None


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "body_too_large", f"at most {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "body_too_large", f"at most {limit} bytes")
    return bytes(body)


def invalid_body(exc: ValidationError) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return ApiError(400, "malformed_json", "the body is not valid JSON")
    details = [{"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in errors[:20]]
    return ApiError(
        422, "invalid_body", "the body does not match the event schema", details=details
    )


_STATUS: list[tuple[type[Exception], int, str]] = [
    (InvalidInputError, 422, "invalid_input"),
    (UnknownEntityError, 422, "unknown_entity"),
    (IdempotencyConflictError, 409, "idempotency_conflict"),
    (ConcurrencyConflictError, 409, "concurrency_conflict"),
    (StorageBusyError, 503, "busy"),
    (ReservationStateError, 409, "invalid_state"),
]


async def error_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        return JSONResponse(
            {"error": exc.code, "message": exc.message, **exc.extra},
            status_code=exc.status,
            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None,
        )
    for kind, status, code in _STATUS:
        if isinstance(exc, kind):
            headers = {"Retry-After": "1"} if status == 503 else None
            return JSONResponse(
                {"error": code, "message": str(exc)}, status_code=status, headers=headers
            )
    raise exc


async def route_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer in the API's JSON shape too."""
    status = getattr(exc, "status_code", 404)
    code = "method_not_allowed" if status == 405 else "not_found"
    message = f"{request.method} {request.url.path}: " + (
        "method not allowed" if status == 405 else "no such route"
    )
    return JSONResponse({"error": code, "message": message}, status_code=status)
