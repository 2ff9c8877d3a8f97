"""POST /v1/imports: an ERP/WMS stock file (CSV or JSONL) sent as the request body.

Answers the import's summary, 200 even when some rows were refused; a file that cannot be
imported at all gets a 4xx naming the problem, and nothing is written."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnistock.api.common import ApiError, authorize, read_body
from omnistock.clock import Clock
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import check_identifier
from omnistock.ingest.import_runner import run_import
from omnistock.ingest.imports import ImportFormat, ImportMode
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope

DEFAULT_NAME = "upload"
MAX_NAME_LENGTH = 80  # leaves room in the events' source for `import:<token>:`

E = TypeVar("E", bound=StrEnum)

# A stock file of ~1.3 million rows; larger files go through `omnistock import`.
MAX_IMPORT_BYTES = 32 << 20


def import_route(store: Store, clock: Clock) -> Route:
    """The route; query `format=csv|jsonl` (default: from `name`'s extension),
    `mode=absolute|delta` (for rows without one; default absolute), `name` (the file's
    name, kept in the events' source as `import:<token name>:<name>`)."""

    async def post_import(request: Request) -> Response:
        token = await authorize(store, request, Scope.WRITE)
        name = _name(request)
        fmt = _choice(request, "format", ImportFormat, _format_of(name))
        mode = _choice(request, "mode", ImportMode, ImportMode.ABSOLUTE)
        body = await read_body(request, MAX_IMPORT_BYTES)
        try:
            summary = await run_import(
                store, f"{token.name}:{name}", body, fmt=fmt, default_mode=mode, clock=clock
            )
        except InvalidInputError as exc:
            raise _refused_file(exc) from None
        return JSONResponse(summary.to_json())

    return Route("/v1/imports", post_import, methods=["POST"])


def _name(request: Request) -> str:
    name = request.query_params.get("name", DEFAULT_NAME)
    try:
        return check_identifier("name", name, MAX_NAME_LENGTH)
    except InvalidInputError as exc:
        raise ApiError(422, "invalid_query", str(exc)) from None


def _format_of(name: str) -> ImportFormat | None:
    suffix = name.rpartition(".")[2].lower()
    return {"csv": ImportFormat.CSV, "jsonl": ImportFormat.JSONL}.get(suffix)


def _choice(request: Request, param: str, choices: type[E], default: E | None) -> E:
    value = request.query_params.get(param)
    allowed = " or ".join(choice.value for choice in choices)
    if value is None and default is not None:
        return default
    if value is None:
        raise ApiError(422, "invalid_query", f"give {param}={allowed}")
    try:
        return choices(value)
    except ValueError:
        raise ApiError(422, "invalid_query", f"{param} must be {allowed}") from None


def _refused_file(exc: InvalidInputError) -> ApiError:
    """A body that is not UTF-8 text is malformed (400); a bad CSV header is a well-formed
    file that does not say what it must (422)."""
    if exc.field == "file":
        return ApiError(400, "malformed_file", str(exc))
    return ApiError(422, "invalid_file", str(exc))
