"""The Admin GraphQL schema the sandbox serves: the official 2025-01 introspection, moved to
2026-04 (changeFromQuantity, @idempotent and the webhook subscription `uri` added,
compareQuantity/ignoreCompareQuantity gone).

Built once per process (`admin_schema()`); graphql-core validates every document against it."""

from __future__ import annotations

import copy
import functools
import gzip
import json
from pathlib import Path
from typing import Any, cast

from graphql import GraphQLSchema, IntrospectionQuery, build_client_schema

API_VERSION = "2026-04"
# Shopify's own introspection result (Shopify/dev-mcp, ISC licence; see README.md).
SCHEMA_FILE = Path(__file__).with_name("admin_schema_2025-01.json.gz")

Introspection = dict[str, Any]

_INT = {"kind": "SCALAR", "name": "Int", "ofType": None}
_CHANGE_FROM = {
    "name": "changeFromQuantity",
    "description": "The quantity the caller expects to change from (2026-01); null opts out "
    "of the check. Required at runtime from 2026-04.",
    "type": _INT,
    "defaultValue": None,
}
_IDEMPOTENT = {
    "name": "idempotent",
    "description": "Makes the mutation safe to retry: the same key and variables replay the "
    "first result (2026-01; mandatory for inventory mutations from 2026-04).",
    "locations": ["FIELD"],
    "args": [
        {
            "name": "key",
            "description": "A unique key for the operation.",
            "type": {
                "kind": "NON_NULL",
                "name": None,
                "ofType": {"kind": "SCALAR", "name": "String", "ofType": None},
            },
            "defaultValue": None,
        }
    ],
}
# Codes the 2026-01 changelogs introduced on the set/adjust user-error enums.
_NEW_CODES = ("CHANGE_FROM_QUANTITY_STALE",)
_REMOVED_FIELDS = {
    "InventoryQuantityInput": ("compareQuantity",),
    "InventorySetQuantitiesInput": ("ignoreCompareQuantity",),
}
_CHANGE_FROM_INPUTS = ("InventoryQuantityInput", "InventoryChangeInput")
# 2025-10 unified the subscription address as `uri` (HTTPS URL, Pub/Sub or EventBridge);
# 2026-01 deprecated `callbackUrl` and `endpoint` on WebhookSubscription in its favour.
_STRING = {"kind": "SCALAR", "name": "String", "ofType": None}
_URI_INPUT = {
    "name": "uri",
    "description": "The URI to send events to: an HTTPS URL, a Pub/Sub or an EventBridge URI.",
    "type": _STRING,
    "defaultValue": None,
}
_URI_FIELD = {
    "name": "uri",
    "description": "The URI to which the webhook subscription sends events.",
    "args": [],
    "type": {"kind": "NON_NULL", "name": None, "ofType": _STRING},
    "isDeprecated": False,
    "deprecationReason": None,
}
_ERROR_ENUMS = ("InventorySetQuantitiesUserErrorCode", "InventoryAdjustQuantitiesUserErrorCode")


def load_introspection(path: Path = SCHEMA_FILE) -> Introspection:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        document: Introspection = json.load(handle)
    data: Introspection = document.get("data", document)
    return data


def to_2026_04(introspection: Introspection) -> Introspection:
    """Pure: a copy of a 2025-01 introspection result with the 2026-01/04 changes applied."""
    result = copy.deepcopy(introspection)
    schema = result["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    for name, removed in _REMOVED_FIELDS.items():
        fields = types[name]["inputFields"]
        types[name]["inputFields"] = [f for f in fields if f["name"] not in removed]
    for name in _CHANGE_FROM_INPUTS:
        types[name]["inputFields"].append(copy.deepcopy(_CHANGE_FROM))
    for name in _ERROR_ENUMS:
        for code in _NEW_CODES:
            types[name]["enumValues"].append(
                {
                    "name": code,
                    "description": None,
                    "isDeprecated": False,
                    "deprecationReason": None,
                }
            )
    types["WebhookSubscriptionInput"]["inputFields"].append(copy.deepcopy(_URI_INPUT))
    types["WebhookSubscription"]["fields"].append(copy.deepcopy(_URI_FIELD))
    schema["directives"].append(copy.deepcopy(_IDEMPOTENT))
    return result


@functools.cache
def admin_schema() -> GraphQLSchema:
    """The 2026-04 schema (assume_valid: graphql-core refuses the official file over
    deprecation rules on interface fields, which Shopify's own server tolerates)."""
    introspection = cast(IntrospectionQuery, to_2026_04(load_introspection()))
    return build_client_schema(introspection, assume_valid=True)
