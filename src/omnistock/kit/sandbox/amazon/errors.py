"""SP-API error answers: every failure is an ErrorList with x-amzn-RequestId, and injected
faults are rendered the same way (the fault kit's Retry-After is kept, see README)."""

from __future__ import annotations

import uuid

from starlette.responses import JSONResponse, Response

MESSAGES = {
    400: ("InvalidInput", "Request has missing or invalid parameters and cannot be parsed."),
    401: ("Unauthorized", "Access to requested resource is denied."),
    403: ("Unauthorized", "Access to requested resource is denied."),
    404: ("NotFound", "The resource specified does not exist."),
    429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Temporary overloading or maintenance of the server."),
}


def request_id() -> str:
    return str(uuid.uuid4())


def error_list(status: int, code: str, message: str, details: str = "") -> JSONResponse:
    body = {"errors": [{"code": code, "message": message, "details": details}]}
    return JSONResponse(body, status_code=status, headers={"x-amzn-RequestId": request_id()})


def standard_error(status: int, details: str = "") -> JSONResponse:
    code, message = MESSAGES.get(status, MESSAGES[500])
    return error_list(status, code, message, details)


def render_fault(status: int, retry_after: float | None) -> Response:
    """An injected failure. SP-API sends no Retry-After; the fault kit's is passed on so
    that tests can state a pause (the adapter honours one when present)."""
    response = standard_error(status)
    if retry_after is not None:
        response.headers["Retry-After"] = f"{retry_after:g}"
    return response
