"""eBay's official OpenAPI 3 contracts as a checker of recorded
exchanges: the request and response of each call (openapi-core), eBay's error bodies and
errorId tables (`x-response-codes`), and the OAuth scopes each operation requires.

The specs name production (`https://api.ebay.com{basePath}`): their server variables are
expanded to their defaults and each call's URL is moved onto that host before matching.
The OAuth token endpoint and Post-Order have no OpenAPI contract in the specs: the token
exchange is checked against eBay's documented form and answer (the client-credentials and
refresh-token grants of its OAuth guide), and
Post-Order calls are reported as unspecified."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from jsonschema.exceptions import ValidationError
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.fidelity.ebay.recording import Exchange
from tests.services import unavailable

# The official contracts are not vendored (eBay's licence does not allow it): CI lays them in
# a folder beside the repository; elsewhere the fidelity tests skip, saying so.
SPECS = Path(__file__).resolve().parents[3].parent / "shared/specs/ebay"
SPEC_FILES = (
    "sell_inventory_v1_oas3.json",
    "sell_fulfillment_v1_oas3.json",
    "commerce_notification_v1_oas3.json",
    "developer_analytics_v1_beta_oas3.json",
)
PRODUCTION = "https://api.ebay.com"
TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 - a path
UNSPECIFIED_PREFIXES = ("/post-order/v2/",)  # no official OpenAPI contract in the specs
NOT_EBAY_PREFIXES = ("/_sandbox/",)  # the sandbox's own admin routes
# Whole-call answers eBay's gateway gives any operation, declared or not.
GATEWAY_STATUSES = frozenset({401, 403, 429, 500, 503})
# errorIds that belong to no one API (eBay's gateway and OAuth layers); ⚠️ 2001's id and the
# 10000-range ids are not confirmed by eBay (sandbox README).
GATEWAY_ERRORS: Mapping[int, tuple[str, str]] = {
    1001: ("OAuth", "REQUEST"),
    1100: ("ACCESS", "REQUEST"),
    2001: ("ACCESS", "REQUEST"),
    2004: ("ACCESS", "REQUEST"),
    10000: ("API_GATEWAY", "APPLICATION"),
    10001: ("API_GATEWAY", "APPLICATION"),
}
# Ids the sandbox assumes where eBay documents the rule but not its error (README ⚠️).
ASSUMED_ERRORS: Mapping[int, tuple[str, str]] = {25099: ("API_INVENTORY", "REQUEST")}
BULK_OPERATIONS = (
    "/bulk_update_price_quantity",
    "/bulk_get_inventory_item",
    "/bulk_create_or_replace_inventory_item",
)
Doc = dict[str, Any]
STRINGS: Doc = {"type": "array", "items": {"type": "string"}}
METHODS = frozenset({"get", "put", "post", "delete", "patch"})


# --- the specs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Declared:
    """An errorId as an operation's `x-response-codes` declares it."""

    status: int
    domain: str
    category: str


@dataclass(slots=True)
class ApiContract:
    """One spec: its validator, its base path and what its operations declare."""

    name: str
    base_path: str
    doc: Doc
    openapi: OpenAPI
    errors: dict[int, list[Declared]] = field(default_factory=dict)  # the whole API's

    def operation(self, method: str, path: str) -> tuple[str, Doc] | None:
        """(path template, operation) for a path below the base path; the template with
        the fewest variables wins, as in openapi-core."""
        rest = path.removeprefix(self.base_path)
        found = [
            (template.count("{"), template, item[method.lower()])
            for template, item in self.doc["paths"].items()
            if method.lower() in item and _matches(template, rest)
        ]
        if not found:
            return None
        _, template, op = min(found, key=lambda f: f[0])
        return template, op

    def error_schema(self) -> Doc:
        """eBay's error body: `errors` (and optional `warnings`) of the spec's Error type."""
        errors = {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}
        return {
            "type": "object",
            "required": ["errors"],
            "properties": {"errors": {**errors, "minItems": 1}, "warnings": errors},
            "components": self.doc["components"],
        }


def _matches(template: str, path: str) -> bool:
    """`/offer/{offerId}` matches `/offer/123`: a `{variable}` is one non-empty segment."""
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(got) and all(
        w == g or (w.startswith("{") and w.endswith("}") and g)
        for w, g in zip(want, got, strict=True)
    )


def _expanded_servers(doc: Doc) -> None:
    """`https://api.ebay.com{basePath}` -> its one concrete URL (openapi-core's server
    templates match one path segment per variable; basePath spans several)."""
    for server in doc.get("servers", []):
        url = server["url"]
        for name, variable in server.pop("variables", {}).items():
            url = url.replace("{" + name + "}", variable["default"])
        server["url"] = url


# Where a spec contradicts itself, the form its own description gives wins (each entry
# names the schema, the property and the replacement).
ERRATA: Sequence[tuple[str, str, Doc]] = (
    # Typed "string", but the description's own example is `"aspects": {"Brand": ["GoPro"],
    # ...}`: a map of aspect name to values, which is what eBay sends and accepts.
    ("Product", "aspects", {"type": "object", "additionalProperties": STRINGS}),
    ("InventoryItemGroup", "aspects", {"type": "object", "additionalProperties": STRINGS}),
    # Typed "string", but its description links the DeliveryConfig type, which the same
    # spec's DestinationRequest uses for it: {endpoint, verificationToken}, as eBay answers.
    ("Destination", "deliveryConfig", {"$ref": "#/components/schemas/DeliveryConfig"}),
)


def _corrected(doc: Doc) -> None:
    schemas = doc["components"]["schemas"]
    for schema, prop, replacement in ERRATA:
        if prop in schemas.get(schema, {}).get("properties", {}):
            described = schemas[schema]["properties"][prop].get("description", "")
            schemas[schema]["properties"][prop] = {**replacement, "description": described}


def _declared_errors(doc: Doc) -> dict[int, list[Declared]]:
    table: dict[int, list[Declared]] = {}
    for item in doc["paths"].values():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status, response in (op.get("responses") or {}).items():
                codes = (response.get("x-response-codes") or {}).get("errors") or {}
                for error_id, info in codes.items():
                    entry = Declared(int(status), info["domain"], info["category"])
                    table.setdefault(int(error_id), []).append(entry)
    return table


@cache
def load_contracts() -> tuple[ApiContract, ...]:
    """Every spec, once per test session. Skips (fails in CI) if they are not here."""
    missing = [name for name in SPEC_FILES if not (SPECS / name).exists()]
    if missing:
        unavailable(f"eBay OpenAPI contracts not found in {SPECS}: {', '.join(missing)}")
    contracts = []
    for name in SPEC_FILES:
        doc = json.loads((SPECS / name).read_text())
        _expanded_servers(doc)
        _corrected(doc)
        base_path = httpx.URL(doc["servers"][0]["url"]).path
        contract = ApiContract(name, base_path, doc, OpenAPI.from_dict(doc))
        contract.errors = _declared_errors(doc)
        contracts.append(contract)
    return tuple(contracts)


def declared_scopes(flow: str) -> frozenset[str]:
    """Every OAuth scope the specs declare for `flow` (clientCredentials | authorizationCode)."""
    scopes: set[str] = set()
    for contract in load_contracts():
        for scheme in contract.doc["components"].get("securitySchemes", {}).values():
            scopes.update(scheme.get("flows", {}).get(flow, {}).get("scopes", {}))
    return frozenset(scopes)


# --- openapi-core's view of an exchange ----------------------------------------------------


@dataclass(slots=True)
class SpecRequest:
    """openapi-core's Request protocol over a recorded request, moved to production."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass(frozen=True, slots=True)
class SpecResponse:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def spec_request(exchange: Exchange) -> SpecRequest:
    headers = Headers(list(exchange.request_headers.multi_items()))
    query = ImmutableMultiDict(list(exchange.url.params.multi_items()))
    return SpecRequest(
        host_url=PRODUCTION,
        path=exchange.url.path,
        method=exchange.method.lower(),
        body=exchange.request_body or None,
        content_type=exchange.request_headers.get("content-type", "").lower(),
        parameters=RequestParameters(query=query, header=headers),
    )


def spec_response(exchange: Exchange, status: int | None = None) -> SpecResponse:
    headers = exchange.response_headers or httpx.Headers()
    return SpecResponse(
        status_code=status or exchange.status or 0,
        content_type=headers.get("content-type", "").lower(),
        headers=Headers(list(headers.multi_items())),
        data=exchange.response_body or None,
    )


def _explain(error: Exception) -> str:
    """openapi-core's error with the schema errors it wraps."""
    parts = [str(error)]
    cause = error.__cause__
    for schema_error in getattr(cause, "schema_errors", None) or ():
        if isinstance(schema_error, ValidationError):
            where = "/".join(str(p) for p in schema_error.absolute_path)
            parts.append(f"at /{where}: {schema_error.message}")
    if cause is not None and not getattr(cause, "schema_errors", None):
        parts.append(str(cause))
    return "; ".join(parts)


# --- the checker ---------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    """What checking a set of exchanges found."""

    problems: list[str] = field(default_factory=list)
    checked: int = 0  # exchanges checked against an OpenAPI contract
    operations: set[str] = field(default_factory=set)  # "METHOD /template" seen
    unspecified: list[Exchange] = field(default_factory=list)  # no contract in the specs

    def assert_clean(self) -> None:
        assert not self.problems, "deviations from eBay's contracts:\n" + "\n".join(self.problems)


class EbayContracts:
    """Checks exchanges in order (token grants first teach it which scopes a token has)."""

    def __init__(self) -> None:
        self.contracts = load_contracts()
        self._scopes: dict[str, frozenset[str]] = {}  # access token -> granted scopes

    def check(self, exchanges: Iterable[Exchange], *, invalid_requests: bool = False) -> Report:
        """`invalid_requests`: the exchanges test the sandbox's refusals, so each request
        must break the contract (and the answers must still be eBay's)."""
        report = Report()
        for exchange in exchanges:
            found = self._check(exchange, report)
            if invalid_requests:
                found = _expect_invalid_request(found)
            report.problems.extend(f"{exchange}: {p}" for p in found)
        return report

    def _check(self, exchange: Exchange, report: Report) -> list[str]:
        path = exchange.url.path
        if path.startswith(NOT_EBAY_PREFIXES):
            return []
        if path == TOKEN_PATH:
            return self._token(exchange)
        if path.startswith(UNSPECIFIED_PREFIXES):
            report.unspecified.append(exchange)
            return []
        contract = next((c for c in self.contracts if path.startswith(c.base_path + "/")), None)
        found = contract.operation(exchange.method, path) if contract else None
        if contract is None or found is None:
            return [f"no operation of the specs matches {exchange.method} {path}"]
        template, op = found
        report.checked += 1
        report.operations.add(f"{exchange.method} {contract.base_path}{template}")
        problems = self._request(contract, op, exchange)
        if exchange.status is not None:
            problems += self._response(contract, template, op, exchange)
        return problems

    # requests ------------------------------------------------------------------------

    def _request(self, contract: ApiContract, op: Doc, exchange: Exchange) -> list[str]:
        problems = []
        with warnings.catch_warnings():
            # openapi-core cannot check oauth2 (it warns); _scope_problems does.
            warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
            try:
                contract.openapi.validate_request(spec_request(exchange))
            except OpenAPIError as error:
                problems.append(f"request: {_explain(error)}")
        return problems + self._scope_problems(op, exchange)

    def _scope_problems(self, op: Doc, exchange: Exchange) -> list[str]:
        """The Bearer token must have been granted one of the operation's scopes (eBay
        lists alternatives: e.g. sell.inventory or sell.inventory.readonly)."""
        auth = exchange.request_headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return [f"request: Authorization is not a Bearer token ({auth.split(' ')[0]!r})"]
        granted = self._scopes.get(auth.removeprefix("Bearer "))
        if granted is None:
            return ["request: a Bearer token not obtained from the token endpoint"]
        wanted = {s for req in op.get("security", []) for scopes in req.values() for s in scopes}
        if wanted and not wanted & granted:
            return [f"request: token scopes {sorted(granted)} lack any of {sorted(wanted)}"]
        return []

    # responses -----------------------------------------------------------------------

    def _response(
        self, contract: ApiContract, template: str, op: Doc, exchange: Exchange
    ) -> list[str]:
        status = exchange.status or 0
        declared = op["responses"]
        problems = []
        if str(status) in declared:
            problems += self._response_body(contract, op, exchange)
        elif status not in GATEWAY_STATUSES:
            problems.append(f"response: status {status} is not declared ({sorted(declared)})")
        if status >= 400:
            problems += self._error_body(contract, op, exchange)
        elif template in BULK_OPERATIONS:
            problems += self._item_errors(contract, exchange)
        return problems

    def _response_body(self, contract: ApiContract, op: Doc, exchange: Exchange) -> list[str]:
        status = exchange.status or 0
        # 207 Multi-Status is declared without a body; eBay documents it as the 200 body
        # with a statusCode per item, so it is held to the 200 schema.
        as_status = 200 if status == 207 and "content" not in op["responses"]["207"] else status
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
            try:
                contract.openapi.validate_response(
                    spec_request(exchange), spec_response(exchange, as_status)
                )
            except OpenAPIError as error:
                return [f"response: {_explain(error)}"]
        return []

    def _error_body(self, contract: ApiContract, op: Doc, exchange: Exchange) -> list[str]:
        try:
            body = json.loads(exchange.response_body)
        except ValueError:
            return ["error answer: the body is not JSON"]
        validator = OAS30Validator(contract.error_schema())
        problems = [f"error body: {e.message}" for e in validator.iter_errors(body)]
        if problems:
            return problems
        status = exchange.status or 0
        declared_here = _codes(op, status)
        for error in body["errors"]:
            problems += self._error_id(contract, error)
            error_id = error.get("errorId")
            own = error_id in contract.errors and error_id not in GATEWAY_ERRORS
            if own and declared_here and error_id not in declared_here:
                problems.append(
                    f"errorId {error_id} is not declared for HTTP {status} "
                    f"(declared: {sorted(declared_here)})"
                )
        return problems

    def _item_errors(self, contract: ApiContract, exchange: Exchange) -> list[str]:
        """Per-item answers of a bulk call: each item's errors are eBay's errors."""
        body = json.loads(exchange.response_body or b"{}")
        problems = []
        for item in body.get("responses") or []:
            for error in item.get("errors") or []:
                problems += self._error_id(contract, error)
        return problems

    def _error_id(self, contract: ApiContract, error: Mapping[str, object]) -> list[str]:
        """The errorId is one the API declares (or a gateway/assumed one), and carries the
        domain and category declared for it."""
        error_id = error.get("errorId")
        if not isinstance(error_id, int):
            return [f"errorId {error_id!r} is not an integer"]
        got = (error.get("domain"), error.get("category"))
        if error_id in contract.errors:
            allowed = {(d.domain, d.category) for d in contract.errors[error_id]}
        elif error_id in GATEWAY_ERRORS:
            allowed = {GATEWAY_ERRORS[error_id]}
        elif error_id in ASSUMED_ERRORS:
            allowed = {ASSUMED_ERRORS[error_id]}
        else:
            return [f"errorId {error_id} is not declared by {contract.name}"]
        if got not in allowed:
            return [f"errorId {error_id} has domain/category {got}, declared {sorted(allowed)}"]
        return []

    # the OAuth token endpoint (documented, no OpenAPI contract) ------------------------

    def _token(self, exchange: Exchange) -> list[str]:
        problems = _token_request(exchange)
        form = dict(parse_qsl(exchange.request_body.decode()))
        if exchange.status == 200:
            answer = json.loads(exchange.response_body)
            problems += _token_answer(answer, form.get("grant_type", ""))
            if not problems:
                self._scopes[str(answer["access_token"])] = frozenset(form.get("scope", "").split())
        elif exchange.status is not None:
            answer = json.loads(exchange.response_body or b"{}")
            if not (isinstance(answer.get("error"), str) and "error_description" in answer):
                problems.append("token error: not {error, error_description}")
        return [f"token: {p}" for p in problems]


def _expect_invalid_request(problems: list[str]) -> list[str]:
    rest = [p for p in problems if not p.startswith("request: ")]
    if len(rest) == len(problems):
        return [*rest, "the request was meant to break the contract but matches it"]
    return rest


def _codes(op: Doc, status: int) -> set[int]:
    response = op["responses"].get(str(status)) or {}
    return {int(k) for k in (response.get("x-response-codes") or {}).get("errors") or {}}


GRANTS: Mapping[str, tuple[str, ...]] = {
    "client_credentials": ("scope",),
    "refresh_token": ("refresh_token", "scope"),
    "authorization_code": ("code", "redirect_uri"),
}


def _token_request(exchange: Exchange) -> list[str]:
    """POST, form-encoded, Basic client auth, a known grant with its fields, and only
    scopes the specs declare for that grant's flow."""
    problems = []
    headers = exchange.request_headers
    if exchange.method != "POST":
        problems.append(f"method {exchange.method}")
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        problems.append(f"content type {headers.get('content-type')!r}")
    auth = headers.get("authorization", "")
    try:
        client = base64.b64decode(auth.removeprefix("Basic "), validate=True).decode()
        basic = auth.startswith("Basic ") and ":" in client
    except ValueError:
        basic = False
    if not basic:
        problems.append("no Basic client_id:client_secret authorization")
    form = dict(parse_qsl(exchange.request_body.decode()))
    grant = form.get("grant_type", "")
    if grant not in GRANTS:
        return [*problems, f"grant_type {grant!r}"]
    problems += [f"{grant} without {name}" for name in GRANTS[grant] if not form.get(name)]
    flow = "clientCredentials" if grant == "client_credentials" else "authorizationCode"
    unknown = set(form.get("scope", "").split()) - declared_scopes(flow)
    if unknown:
        problems.append(f"scopes no spec declares for {flow}: {sorted(unknown)}")
    return problems


def _token_answer(answer: object, grant: str) -> list[str]:
    if not isinstance(answer, dict):
        return ["answer is not an object"]
    fields: dict[str, type] = {"access_token": str, "expires_in": int, "token_type": str}
    if grant == "authorization_code":
        fields |= {"refresh_token": str, "refresh_token_expires_in": int}
    return [
        f"answer field {name} missing or not {kind.__name__}"
        for name, kind in fields.items()
        if not isinstance(answer.get(name), kind)
    ]


def check(exchanges: Sequence[Exchange], *, invalid_requests: bool = False) -> Report:
    """Check `exchanges` (in recorded order) and return the report."""
    return EbayContracts().check(exchanges, invalid_requests=invalid_requests)
