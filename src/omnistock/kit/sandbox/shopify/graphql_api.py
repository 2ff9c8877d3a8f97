"""The GraphQL endpoint: parse, validate against the 2026-04 schema, charge the bucket,
execute, refund, and answer in Shopify's shape (`errors`, `extensions.cost`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.common.core import ITEMS_STATE_KEY
from omnistock.kit.sandbox.shopify.cost import (
    MAX_QUERY_COST,
    LeakyBucket,
    actual_cost,
    requested_cost,
)
from omnistock.kit.sandbox.shopify.mutations import CallContext
from omnistock.kit.sandbox.shopify.representation import Obj

THROTTLED_DOCS = "https://shopify.dev/api/usage/rate-limits"
# graphql-core's rule messages, mapped to the codes Shopify's server (graphql-ruby) reports.
_VALIDATION_CODES = (
    ("Cannot query field", "undefinedField"),
    ("Unknown argument", "argumentNotAccepted"),
    ("Unknown directive", "undefinedDirective"),
    ("Unknown type", "undefinedType"),
    ("is required, but it was not provided", "missingRequiredArguments"),
    ("must have a selection of subfields", "selectionMismatch"),
    ("must not have a selection", "selectionMismatch"),
    ("is never used", "variableNotUsed"),
    ("is not defined", "variableNotDefined"),
)


@dataclass(frozen=True, slots=True)
class Roots:
    query: Obj
    mutation: Obj


MAX_CHECKED_QUERIES = 256


class GraphQLEndpoint:
    """POST /admin/api/2026-04/graphql.json (auth is checked before this runs)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        roots: Roots,
        bucket: LeakyBucket,
        clock_now: Callable[[], float],
        *,
        throttle_status: int = 200,
    ) -> None:
        self._schema = schema
        self._roots = roots
        self._bucket = bucket
        self._now = clock_now
        self._throttle_status = throttle_status
        # Clients send the same few query texts with new variables: parsing and validating
        # each text once (graphql-core's validation was a third of the sandbox's time).
        self._checked: dict[str, DocumentNode | list[Obj]] = {}

    async def __call__(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str):
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        variables = body.get("variables") or {}
        answer, status = self._run(
            query,
            variables if isinstance(variables, dict) else {},
            body.get("operationName"),
            request,
        )
        return JSONResponse(answer, status_code=status)

    def _run(
        self, query: str, variables: dict[str, Any], name: object, request: Request
    ) -> tuple[Obj, int]:
        document = self._checked.get(query)
        if document is None:
            document = self._check(query)
            if len(self._checked) >= MAX_CHECKED_QUERIES:
                del self._checked[next(iter(self._checked))]  # the oldest
            self._checked[query] = document
        if isinstance(document, list):
            return self._answer(errors=document), 200
        operation = get_operation_ast(document, name if isinstance(name, str) else None)
        if operation is None:
            return self._answer(
                errors=[
                    {
                        "message": "An operation name is required",
                        "extensions": {"code": "operationNotFound"},
                    }
                ]
            ), 200
        return self._charged(document, operation, variables, request)

    def _check(self, query: str) -> DocumentNode | list[Obj]:
        """The parsed document, or the errors that refuse it."""
        try:
            document = parse(query)
        except GraphQLError as error:
            return [_formatted(error, "parseError")]
        problems = validate(self._schema, document)
        if problems:
            return [_formatted(e, _code(e)) for e in problems]
        return document

    def _charged(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        request: Request,
    ) -> tuple[Obj, int]:
        requested = requested_cost(self._schema, operation, variables)
        if requested > MAX_QUERY_COST:
            error = {
                "message": f"Query cost is {requested}, which exceeds the single query max "
                f"cost limit ({MAX_QUERY_COST}).",
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": requested,
                    "maxCost": MAX_QUERY_COST,
                },
            }
            return self._answer(errors=[error], requested=requested), 200
        if not self._bucket.try_take(requested, self._now()):
            error = {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": THROTTLED_DOCS},
            }
            return self._answer(errors=[error], requested=requested), self._throttle_status
        mutation = operation.operation is OperationType.MUTATION
        context = CallContext()
        result = execute(
            self._schema,
            document,
            root_value=self._roots.mutation if mutation else self._roots.query,
            variable_values=variables,
            operation_name=operation.name.value if operation.name else None,
            context_value=context,
        )
        if not isinstance(result, ExecutionResult):
            raise TypeError("the sandbox's resolvers are synchronous")
        request.scope.setdefault("state", {})[ITEMS_STATE_KEY] = context.items
        spent = actual_cost(result.data, requested, mutation=mutation)
        self._bucket.refund(requested - spent, self._now())
        errors = [_formatted(e, None) for e in result.errors or ()]
        answer = self._answer(data=result.data, errors=errors, requested=requested, actual=spent)
        return answer, 200

    def _answer(
        self,
        *,
        data: object = None,
        errors: list[Obj] | None = None,
        requested: int = 0,
        actual: int | None = None,
    ) -> Obj:
        status = self._bucket.status(self._now())
        cost = {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.to_json(),
        }
        answer: Obj = {} if data is None and errors else {"data": data}
        if errors:
            answer["errors"] = errors
        answer["extensions"] = {"cost": cost}
        return answer


def _code(error: GraphQLError) -> str:
    return next(
        (code for text, code in _VALIDATION_CODES if text in error.message), "validationError"
    )


def _formatted(error: GraphQLError, code: str | None) -> Obj:
    formatted: Obj = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if code is not None:
        extensions.setdefault("code", code)
    if extensions:
        formatted["extensions"] = extensions
    return formatted
