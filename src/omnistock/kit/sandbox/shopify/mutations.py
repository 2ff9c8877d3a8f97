"""The mutations the sandbox resolves: inventorySetQuantities, inventoryAdjustQuantities
(2026-04 rules: changeFromQuantity and @idempotent required, ≤250 items, all or nothing)
and orderCancel."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, value_from_ast_untyped

from omnistock.kit.sandbox.shopify.representation import MAX_PAGE, Obj, Views, gid, iso, parse_gid
from omnistock.kit.sandbox.shopify.store import MAX_QUANTITY, LevelChange, ShopifyStore

REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
SET_NAMES = frozenset({"available", "on_hand"})


@dataclass(slots=True)
class CallContext:
    """Per request: how many items the mutations settled (for the call log)."""

    items: int = 0
    write: bool = False


@dataclass(slots=True)
class _Stored:
    fingerprint: str
    result: Obj
    at: float


@dataclass(slots=True)
class IdempotencyStore:
    """Keys remembered for 24 h of platform time (⚠️ retention from third-party sources)."""

    retention_s: float = 86_400.0
    entries: dict[str, _Stored] = field(default_factory=dict)

    def lookup(self, key: str, fingerprint: str, now: float) -> Obj | None:
        stored = self.entries.get(key)
        if stored is None or now - stored.at > self.retention_s:
            return None
        if stored.fingerprint != fingerprint:
            raise _error(
                "The same idempotency key cannot be used with different operation parameters.",
                "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
            )
        return stored.result

    def remember(self, key: str, fingerprint: str, result: Obj, now: float) -> None:
        self.entries[key] = _Stored(fingerprint, result, now)


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def _user_error(path: Sequence[object], message: str, code: str) -> Obj:
    return {"field": [str(p) for p in path], "message": message, "code": code}


@dataclass(frozen=True, slots=True)
class _Write:
    """One validated row: where, the new available, or the user error that refuses it."""

    change: LevelChange | None
    error: Obj | None = None
    delta: int = 0


class MutationRoot:
    def __init__(self, store: ShopifyStore, views: Views, idempotency: IdempotencyStore) -> None:
        self._store = store
        self._views = views
        self._keys = idempotency

    def root(self) -> Obj:
        return {
            "inventorySetQuantities": self._idempotent(self._set),
            "inventoryAdjustQuantities": self._idempotent(self._adjust),
            "orderCancel": self.order_cancel,
        }

    def _idempotent(
        self, run: Callable[[Mapping[str, Any], CallContext], Obj]
    ) -> Callable[..., Obj]:
        def resolve(info: GraphQLResolveInfo[CallContext], input: Mapping[str, Any]) -> Obj:
            key = _idempotency_key(info)
            fingerprint = json.dumps([info.field_name, input], sort_keys=True, default=str)
            now = self._store.now()
            replay = self._keys.lookup(key, fingerprint, now)
            if replay is not None:
                return replay
            result = run(input, info.context)
            self._keys.remember(key, fingerprint, result, now)
            return result

        return resolve

    def _set(self, data: Mapping[str, Any], ctx: CallContext) -> Obj:
        rows = _sized(data["quantities"], "quantities")
        writes = [self._set_row(i, row, data["name"]) for i, row in enumerate(rows)]
        errors = _common_errors(data, SET_NAMES, "INVALID_NAME") + _duplicates(rows, "quantities")
        return self._commit(data, ctx, writes, errors)

    def _adjust(self, data: Mapping[str, Any], ctx: CallContext) -> Obj:
        rows = _sized(data["changes"], "changes")
        writes = [self._adjust_row(i, row) for i, row in enumerate(rows)]
        errors = _common_errors(data, frozenset({"available"}), "INVALID_QUANTITY_NAME")
        return self._commit(data, ctx, writes, errors)

    def _set_row(self, index: int, row: Mapping[str, Any], name: str) -> _Write:
        path = ["input", "quantities", index]
        found = self._locate(row, path)
        if isinstance(found, dict):
            return _Write(None, found)
        quantity = row["quantity"]
        if quantity < 0:
            return _refused(
                [*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"
            )
        if quantity > MAX_QUANTITY:
            return _refused(
                [*path, "quantity"],
                "The quantity can't be higher than 1,000,000,000.",
                "INVALID_QUANTITY_TOO_HIGH",
            )
        committed = 0 if name == "available" else found.committed
        current = self._current(row, found) + committed
        stale = _stale(row, path, current)
        if stale is not None:
            return _Write(None, stale)
        return _Write(found.change(quantity - committed), delta=quantity - current)

    def _adjust_row(self, index: int, row: Mapping[str, Any]) -> _Write:
        path = ["input", "changes", index]
        found = self._locate(row, path)
        if isinstance(found, dict):
            return _Write(None, found)
        if row.get("ledgerDocumentUri") is not None:
            return _refused(
                [*path, "ledgerDocumentUri"],
                "A ledger document URI is not allowed when adjusting available.",
                "INVALID_AVAILABLE_DOCUMENT",
            )
        current = self._current(row, found)
        stale = _stale(row, path, current)
        if stale is not None:
            return _Write(None, stale)
        return _Write(found.change(current + row["delta"]), delta=row["delta"])

    def _current(self, row: Mapping[str, Any], found: _Found) -> int:
        """The level now; an armed write fault first moves it, as a racing writer would."""
        if "changeFromQuantity" not in row:
            raise _error(
                "The changeFromQuantity argument is required for each quantity as of 2026-04; "
                "pass null to opt out of the check.",
                "BAD_REQUEST",
            )
        if self._store.check_writable(found.item_id):
            return found.available
        # Another writer (a sale, an app, the admin) moved the level just before this write.
        item = self._store.items[found.item_id]
        self._store.set_available(item, found.location_id, found.available + 1)
        return found.available + 1

    def _locate(self, row: Mapping[str, Any], path: list[object]) -> _Found | Obj:
        item_id = parse_gid(row["inventoryItemId"], "InventoryItem")
        item = self._store.items.get(item_id) if item_id is not None else None
        if item is None:
            return _user_error(
                [*path, "inventoryItemId"],
                "The specified inventory item could not be found.",
                "INVALID_INVENTORY_ITEM",
            )
        location_id = parse_gid(row["locationId"], "Location")
        if location_id is None or location_id not in self._store.locations:
            return _user_error(
                [*path, "locationId"],
                "The specified location could not be found.",
                "INVALID_LOCATION",
            )
        level = item.levels.get(location_id)
        if level is None:
            return _user_error(
                [*path, "locationId"],
                "The specified inventory item is not stocked at the location.",
                "ITEM_NOT_STOCKED_AT_LOCATION",
            )
        return _Found(item.id, location_id, level.available, level.committed)

    def _commit(
        self, data: Mapping[str, Any], ctx: CallContext, writes: list[_Write], errors: list[Obj]
    ) -> Obj:
        errors = errors + [w.error for w in writes if w.error is not None]
        ctx.write = True
        if errors:
            ctx.items += sum(1 for w in writes if w.error is not None)
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = [w.change for w in writes if w.change is not None]
        self._store.apply(changes)
        ctx.items += len(changes)
        return {"inventoryAdjustmentGroup": self._group(data, writes), "userErrors": []}

    def _group(self, data: Mapping[str, Any], writes: list[_Write]) -> Obj:
        now = self._store.now()
        rows = [
            {
                "name": data["name"],
                "delta": w.delta,
                "quantityAfterChange": w.change.available,
                "ledgerDocumentUri": None,
                "item": self._views.inventory_item(self._store.items[w.change.item_id]),
                "location": self._views.location(w.change.location_id),
            }
            for w in writes
            if w.change is not None
        ]
        return {
            "id": gid("InventoryAdjustmentGroup", int(now * 1000)),
            "createdAt": iso(now),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": lambda _info, **_: rows,
        }

    def order_cancel(self, _info: object, orderId: str, restock: bool, **_: Any) -> Obj:  # noqa: N803
        number = parse_gid(orderId, "Order")
        order = self._store.orders.get(number) if number is not None else None
        if order is None:
            error = _user_error(["orderId"], "Order does not exist", "NOT_FOUND")
            return {"job": None, "orderCancelUserErrors": [error], "userErrors": [error]}
        self._store.cancel(order, restock=restock)  # already cancelled: nothing more to do
        job = {"id": gid("Job", order.id), "done": True, "query": None}
        return {"job": job, "orderCancelUserErrors": [], "userErrors": []}


@dataclass(frozen=True, slots=True)
class _Found:
    item_id: int
    location_id: int
    available: int
    committed: int

    def change(self, available: int) -> LevelChange:
        return LevelChange(item_id=self.item_id, location_id=self.location_id, available=available)


def _refused(path: Sequence[object], message: str, code: str) -> _Write:
    return _Write(None, _user_error(path, message, code))


def _stale(row: Mapping[str, Any], path: list[object], current: int) -> Obj | None:
    expected = row["changeFromQuantity"]
    if expected is None or expected == current:
        return None
    return _user_error(
        [*path, "changeFromQuantity"],
        "The specified compare quantity does not match the current quantity.",
        "CHANGE_FROM_QUANTITY_STALE",
    )


def _idempotency_key(info: GraphQLResolveInfo[CallContext]) -> str:
    for node in info.field_nodes[0].directives or ():
        if node.name.value == "idempotent":
            arg = next((a for a in node.arguments or () if a.name.value == "key"), None)
            key = value_from_ast_untyped(arg.value, info.variable_values.coerced) if arg else None
            if isinstance(key, str) and key:
                return key
            raise _error("The idempotency key must not be empty.", "BAD_REQUEST")
    raise _error(
        f"The @idempotent directive is required for {info.field_name} as of 2026-04.",
        "BAD_REQUEST",
    )


def _sized(rows: list[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    if len(rows) > MAX_PAGE:
        raise _error(
            f"The input array size of {len(rows)} is greater than the maximum allowed "
            f"of {MAX_PAGE}.",
            "MAX_INPUT_SIZE_EXCEEDED",
        )
    return rows


def _common_errors(data: Mapping[str, Any], names: frozenset[str], code: str) -> list[Obj]:
    errors = []
    if data["name"] not in names:
        allowed = " or ".join(sorted(names))
        errors.append(_user_error(["input", "name"], f"The quantity name must be {allowed}.", code))
    if data["reason"] not in REASONS:
        errors.append(
            _user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        )
    return errors


def _duplicates(rows: Sequence[Mapping[str, Any]], name: str) -> list[Obj]:
    seen: set[tuple[str, str]] = set()
    errors = []
    for index, row in enumerate(rows):
        pair = (row["inventoryItemId"], row["locationId"])
        if pair in seen:
            errors.append(
                _user_error(
                    ["input", name, index],
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
        seen.add(pair)
    return errors
