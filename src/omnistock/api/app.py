"""The HTTP API: POST /v1/events, GET /v1/balances, GET /v1/sync/{listing}.

Every route needs a bearer token with a scope; every bad request gets a 4xx naming the
problem, and nothing is written for a request that is refused."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnistock.api.bodies import REQUEST, to_events
from omnistock.domain.errors import (
    ConcurrencyConflictError,
    IdempotencyConflictError,
    InvalidInputError,
    OmnistockError,
    StorageBusyError,
    UnknownEntityError,
)
from omnistock.domain.ids import MAX_ID_LENGTH, ListingId, Sku, check_identifier
from omnistock.ledger.journal import AppendResult
from omnistock.ledger.store import Store
from omnistock.ledger.tokens import StoredToken
from omnistock.security.tokens import Scope, allows, digest

MAX_BODY_BYTES = 1 << 20
MAX_QUERY_SKUS = 1_000


class ApiError(Exception):
    """A refused request: its status, a stable code and a message for the caller."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def create_api(store: Store) -> Starlette:
    """The API app over `store`."""

    async def post_events(request: Request) -> Response:
        token = await _authorize(store, request, Scope.WRITE)
        key = _idempotency_key(request)
        body = await _read_body(request)
        try:
            parsed = REQUEST.validate_json(body)
        except ValidationError as exc:
            raise _invalid_body(exc) from None
        events = to_events(parsed, f"api:{key}", source=f"api:{token.name}")
        results = await store.ledger.append(events)
        return JSONResponse({"results": [_result(i, r) for i, r in enumerate(results)]})

    async def get_balances(request: Request) -> Response:
        await _authorize(store, request, Scope.READ)
        skus = [Sku(check_identifier("sku", s)) for s in request.query_params.getlist("sku")]
        if not skus or len(skus) > MAX_QUERY_SKUS:
            raise ApiError(422, "invalid_query", f"give 1 to {MAX_QUERY_SKUS} `sku` parameters")
        balances = await store.ledger.balances(skus)
        return JSONResponse(
            {
                sku: {
                    loc: {"on_hand": b.on_hand, "reserved": b.reserved, "available": b.available}
                    for loc, b in balances.get(sku, {}).items()
                }
                for sku in skus
            }
        )

    async def get_sync(request: Request) -> Response:
        await _authorize(store, request, Scope.READ)
        listing = ListingId(check_identifier("listing", request.path_params["listing"]))
        state = (await store.sync.get([listing])).get(listing)
        if state is None:
            raise ApiError(404, "unknown_listing", f"no listing {listing!r}")
        return JSONResponse(
            {
                "listing": state.listing,
                "account": state.account,
                "desired": state.desired_qty,
                "desired_seq": state.desired_seq,
                "pushed": state.pushed_qty,
                "dirty": state.dirty,
                "attempts": state.attempts,
                "last_error": state.last_error,
            }
        )

    return Starlette(
        routes=[
            Route("/v1/events", post_events, methods=["POST"]),
            Route("/v1/balances", get_balances, methods=["GET"]),
            Route("/v1/sync/{listing}", get_sync, methods=["GET"]),
        ],
        exception_handlers={ApiError: _error_response, OmnistockError: _error_response},
    )


async def _authorize(store: Store, request: Request, needed: Scope) -> StoredToken:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    found = await store.tokens.find(digest(token.strip()))
    if found is None:
        raise ApiError(401, "unauthenticated", "unknown or revoked token")
    if not allows(Scope(found.scope), needed):
        raise ApiError(403, "forbidden", f"this route needs the {needed.value!r} scope")
    return found


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "")
    try:
        return check_identifier("Idempotency-Key", key, MAX_ID_LENGTH)
    except InvalidInputError as exc:
        raise ApiError(400, "invalid_idempotency_key", str(exc)) from None


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
    return bytes(body)


def _invalid_body(exc: ValidationError) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return ApiError(400, "malformed_json", "the body is not valid JSON")
    details = [{"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in errors[:20]]
    return ApiError(
        422, "invalid_body", "the body does not match the event schema", details=details
    )


def _result(index: int, result: AppendResult) -> dict[str, object]:
    status = "duplicate" if result.duplicate else ("applied" if result.applied else "rejected")
    rejection = result.rejection
    return {
        "index": index,
        "status": status,
        "sequences": list(result.sequences),
        "rejection": None
        if rejection is None
        else {"code": rejection.code.value, "message": rejection.message},
    }


_STATUS: list[tuple[type[Exception], int, str]] = [
    (InvalidInputError, 422, "invalid_input"),
    (UnknownEntityError, 422, "unknown_entity"),
    (IdempotencyConflictError, 409, "idempotency_conflict"),
    (ConcurrencyConflictError, 409, "concurrency_conflict"),
    (StorageBusyError, 503, "busy"),
]


async def _error_response(request: Request, exc: Exception) -> Response:
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
