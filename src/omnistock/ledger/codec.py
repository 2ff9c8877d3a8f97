"""Encoding of catalog values stored as JSON text: policies, overrides, id mappings.

Decoding validates, so a hand-edited database row fails loudly, not silently."""

from __future__ import annotations

import json
from collections.abc import Mapping

import msgspec

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import LocationId

# Ids and settings are printable texts (domain.catalog checks them before they are stored).
_MAPPING = msgspec.json.Decoder(dict[str, str])


def _locations(value: object) -> frozenset[LocationId] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidInputError("locations", "must be a list of location ids")
    return frozenset(LocationId(str(v)) for v in value)


def encode_policy(policy: AllocationPolicy | PolicyOverride) -> str:
    data = {
        "safety_buffer": policy.safety_buffer,
        "share": policy.share,
        "max_shown": policy.max_shown,
        "zero_below": policy.zero_below,
        "locations": None if policy.locations is None else sorted(policy.locations),
        "low_stock": policy.low_stock,
    }
    if isinstance(policy, PolicyOverride):
        data = {k: v for k, v in data.items() if v is not None}
    return json.dumps(data, sort_keys=True)


def decode_policy(text: str) -> AllocationPolicy:
    data = json.loads(text)
    policy = AllocationPolicy(
        safety_buffer=data["safety_buffer"],
        share=data["share"],
        max_shown=data["max_shown"],
        zero_below=data["zero_below"],
        locations=_locations(data["locations"]),
        low_stock=data["low_stock"],
    )
    policy.validate()
    return policy


def decode_override(text: str | None) -> PolicyOverride:
    data = json.loads(text) if text else {}
    return PolicyOverride(
        safety_buffer=data.get("safety_buffer"),
        share=data.get("share"),
        max_shown=data.get("max_shown"),
        zero_below=data.get("zero_below"),
        locations=_locations(data.get("locations")),
        low_stock=data.get("low_stock"),
    )


def encode_override(override: PolicyOverride) -> str | None:
    return None if override.is_empty() else encode_policy(override)


def encode_mapping(value: Mapping[str, str]) -> str:
    return json.dumps(dict(value), sort_keys=True)


def decode_mapping(text: str) -> dict[str, str]:
    """Raises InvalidInputError when the row is not a JSON object of texts."""
    try:
        return _MAPPING.decode(text)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise InvalidInputError("stored mapping", str(exc)) from exc
