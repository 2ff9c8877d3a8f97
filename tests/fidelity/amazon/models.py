"""The official SP-API Swagger 2.0 models and listings feed JSON schemas as validators: each
recorded exchange is matched to its operation, then its query, body and answer are checked.

Swagger 2.0 schemas are JSON Schema draft 4 plus extras, validated here with Draft4Validator
against a root holding the model's `definitions` (so `#/definitions/...` refs resolve):
- `x-*` extensions, `example`, `readOnly`, `discriminator` carry no constraint: ignored;
- `format`: only `date-time` is asserted (RFC 3339, as the models' descriptions demand);
  `int32`, `double` and the rest are annotations here, as in draft 4;
- answers are also checked *strictly*: an object schema with `properties` and no
  `additionalProperties` gets `additionalProperties: false`, so the sandbox cannot invent a
  field the model lacks (the real API may add fields; the sandbox should not);
- query parameters are checked by hand (Swagger's `in: query` is not a JSON Schema): every
  one must be declared, required ones present, enum and integer values valid, arrays
  (collectionFormat csv, the default) within maxItems."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

# No stubs are installed for jsonschema (types-jsonschema); see the report to the lead.
import jsonschema  # type: ignore[import-untyped,unused-ignore]
from jsonschema import (  # type: ignore[import-untyped,unused-ignore]
    Draft4Validator,
    Draft7Validator,
    FormatChecker,
)

from tests.fidelity.amazon.recording import Exchange

# Amazon's official models, vendored (Apache-2.0; see specs/NOTICE.md).
SPECS = Path(__file__).resolve().parent / "specs"
MODELS = (
    "listings-items-api-model/listingsItems_2021-08-01.json",
    "feeds-api-model/feeds_2021-06-30.json",
    "orders-api-model/ordersV0.json",
    "orders-api-model/orders_2026-01-01.json",
    "reports-api-model/reports_2021-06-30.json",
    "notifications-api-model/notifications.json",
)
FEED_SCHEMA = "schemas/feeds/listings-feed-schema-v2.json"
REPORT_SCHEMA = "schemas/feeds/listings-feed-processing-report-schema-v2.json"
LWA_PATH = "/auth/o2/token"
DOCUMENTS = "/feed-documents/"  # the sandbox's stand-in for S3 pre-signed URLs
REPORT_DOCUMENTS = "/report-documents/"  # and for the report documents' ones
# GET_MERCHANT_LISTINGS_ALL_DATA has no published schema: the columns discovery reads must
# head the tab-separated document.
LISTINGS_REPORT_COLUMNS = ("seller-sku", "item-name", "quantity", "asin1", "fulfillment-channel")
# Statuses only the suite's fault injection produces (SP-API answers 403 for bad tokens,
# the models declare no 401 on Listings): their bodies must still be ErrorLists.
INJECTED = frozenset({401})

Doc = dict[str, Any]


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None or "T" not in value:
        raise ValueError(f"not an RFC 3339 date-time: {value}")
    return True


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time", raises=ValueError)(_date_time)


@dataclass(frozen=True, slots=True)
class Operation:
    model: str
    operation_id: str
    method: str
    pattern: re.Pattern[str]
    spec: Doc
    definitions: Doc

    def schema(self, fragment: Doc, *, strict: bool) -> Doc:
        definitions = _strict(self.definitions) if strict else self.definitions
        return {**(_strict(fragment) if strict else fragment), "definitions": definitions}


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out and "allOf" not in out:
        out["additionalProperties"] = False
    return out


@cache
def operations() -> tuple[Operation, ...]:
    found = []
    for name in MODELS:
        doc = json.loads((SPECS / "models" / name).read_text())
        for path, item in doc["paths"].items():
            shared = item.get("parameters", [])
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
            for method, spec in item.items():
                if (
                    method == "parameters"
                    or not isinstance(spec, dict)
                    or "operationId" not in spec
                ):
                    continue  # the Notifications model also has `x-` flags on paths
                merged = {**spec, "parameters": [*shared, *spec.get("parameters", [])]}
                found.append(
                    Operation(
                        name,
                        spec["operationId"],
                        method.upper(),
                        re.compile(f"^{regex}$"),
                        merged,
                        doc["definitions"],
                    )
                )
    return tuple(found)


def operation_of(method: str, path: str) -> Operation | None:
    return next(
        (o for o in operations() if o.method == method and o.pattern.match(path)),
        None,
    )


@cache
def feed_schema(name: str) -> Doc:
    loaded: Doc = json.loads((SPECS / name).read_text())
    return loaded


# --- checks ------------------------------------------------------------------------------


def problems(exchange: Exchange, *, refused_ok: bool = False) -> list[str]:
    """What in this exchange departs from the models (empty: nothing). `refused_ok`: a
    request the model calls invalid is fine if it was refused with 400 (tests of refusals)."""
    where = f"{exchange.method} {exchange.path} → {exchange.status}"
    if exchange.path == LWA_PATH:
        return []  # Login with Amazon (OAuth 2.0) is outside SP-API: it has no Swagger model
    if exchange.path.startswith(DOCUMENTS):
        return [f"{where}: {p}" for p in _document_problems(exchange)]
    if exchange.path.startswith(REPORT_DOCUMENTS):
        return [f"{where}: {p}" for p in _report_document_problems(exchange)]
    op = operation_of(exchange.method, exchange.path)
    if op is None:
        return [f"{where}: no operation in the models"]
    sent = [f"query: {p}" for p in _query_problems(op, exchange)]
    sent += [f"request: {p}" for p in _body_problems(op, exchange)]
    if refused_ok and exchange.status == 400:
        sent = []
    found = [*sent, *_answer_problems(op, exchange)]
    return [f"{where} ({op.operation_id}): {p}" for p in found]


def _document_problems(exchange: Exchange) -> Iterator[str]:
    if exchange.method == "PUT":
        yield from _schema_errors(Draft7Validator(feed_schema(FEED_SCHEMA)), exchange.request_body)
    elif exchange.method == "GET" and exchange.status == 200:
        report = Draft7Validator(feed_schema(REPORT_SCHEMA), format_checker=FORMATS)
        yield from _schema_errors(report, exchange.response_body)


def _report_document_problems(exchange: Exchange) -> Iterator[str]:
    """A download is the report (GZIP'd or not) or S3's XML refusal of an expired URL."""
    if exchange.method != "GET":
        yield "report documents are only downloaded"
    elif exchange.status == 403:
        if b"<Code>AccessDenied</Code>" not in exchange.response_body:
            yield "a 403 that is not S3's AccessDenied"
    elif exchange.status != 200:
        yield f"status {exchange.status} from a pre-signed URL"
    else:
        raw = exchange.response_body
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        header = text.split("\n", 1)[0].split("\t")
        missing = [c for c in LISTINGS_REPORT_COLUMNS if c not in header]
        if missing:
            yield f"report without the columns {missing}"


def _query_problems(op: Operation, exchange: Exchange) -> Iterator[str]:
    declared = {p["name"]: p for p in op.spec["parameters"] if p.get("in") == "query"}
    given = exchange.url.params
    for name in given:
        if name not in declared:
            yield f"query parameter {name!r} is not in the model"
    for name, param in declared.items():
        values = given.get_list(name)
        if not values:
            if param.get("required"):
                yield f"required query parameter {name!r} missing"
            continue
        yield from _param_problems(name, param, values)


def _param_problems(name: str, param: Doc, values: list[str]) -> Iterator[str]:
    if param.get("type") == "array":
        items = [v for raw in values for v in raw.split(",")]
        if "maxItems" in param and len(items) > param["maxItems"]:
            yield f"{name}: more than {param['maxItems']} values"
        allowed = param.get("items", {}).get("enum")
    else:
        items, allowed = values, param.get("enum")
        if len(values) > 1:
            yield f"{name}: given {len(values)} times"
    for value in items:
        if allowed is not None and value not in allowed:
            yield f"{name}: {value!r} not in {allowed}"
        if param.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
            yield f"{name}: {value!r} is not an integer"
        if param.get("format") == "date-time":
            try:
                _date_time(value)
            except ValueError as exc:
                yield f"{name}: {exc}"


def _body_problems(op: Operation, exchange: Exchange) -> Iterator[str]:
    body = next((p for p in op.spec["parameters"] if p.get("in") == "body"), None)
    if body is None:
        if exchange.request_body:
            yield "a body was sent to an operation that takes none"
        return
    if not exchange.request_body:
        if body.get("required"):
            yield "required body missing"
        return
    validator = Draft4Validator(op.schema(body["schema"], strict=False), format_checker=FORMATS)
    yield from _schema_errors(validator, exchange.request_body)


def _answer_problems(op: Operation, exchange: Exchange) -> Iterator[str]:
    responses: Mapping[str, Doc] = op.spec["responses"]
    answer = responses.get(str(exchange.status)) or responses.get("default")
    if answer is None:
        if exchange.status not in INJECTED:
            yield f"status {exchange.status} is not declared"
        answer = {"schema": {"$ref": "#/definitions/ErrorList"}}
    if "x-amzn-requestid" not in exchange.response_headers:
        yield "no x-amzn-RequestId header"
    schema = answer.get("schema")
    if schema is None:
        if exchange.response_body:
            yield "a body where the model declares none"
        return
    validator = Draft4Validator(op.schema(schema, strict=True), format_checker=FORMATS)
    yield from (f"answer: {p}" for p in _schema_errors(validator, exchange.response_body))


def _schema_errors(validator: jsonschema.protocols.Validator, raw: bytes) -> Iterator[str]:
    try:
        instance = json.loads(raw)
    except ValueError:
        yield "not JSON"
        return
    for error in validator.iter_errors(instance):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        yield f"{where}: {error.message[:200]}"


def operation_ids(exchanges: list[Exchange]) -> set[str]:
    """The operations (and document transfers) a recording covers, with their statuses."""
    covered = set()
    for e in exchanges:
        if e.path.startswith(DOCUMENTS):
            covered.add(f"document.{e.method}:{e.status}")
            continue
        if e.path.startswith(REPORT_DOCUMENTS):
            covered.add(f"reportDocument.{e.method}:{e.status}")
            continue
        op = operation_of(e.method, e.path)
        covered.add(f"{op.operation_id if op else e.path}:{e.status}")
    return covered
