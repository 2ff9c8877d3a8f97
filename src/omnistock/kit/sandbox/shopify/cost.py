"""Calculated query cost and the leaky bucket, pure (time is an argument).

Cost rules (Shopify's published ones, simplified): a scalar or enum field costs 0, an object
1, a connection or list multiplies its selection by `first`/`last` (or the length of a list
argument such as `names`/`ids`), and a mutation field costs a flat 10."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.language import FragmentSpreadNode, InlineFragmentNode

MUTATION_COST = 10
MAX_QUERY_COST = 1000  # a single query may not request more
# Float noise of a clock at 1.7e9 s (a 2.4e-7 s tick is 2.4e-5 points at 100/s) is not a shortfall.
_NOISE = 1e-3
_SIZE_ARGS = ("first", "last")
_LIST_ARGS = ("names", "ids")

Variables = Mapping[str, object]


def requested_cost(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Variables
) -> int:
    """What the bucket must hold before `operation` runs."""
    root = schema.mutation_type if operation.operation is OperationType.MUTATION else None
    if root is not None:
        return MUTATION_COST * _count_fields(operation.selection_set)
    return _selection_cost(schema, schema.query_type, operation.selection_set, variables)


def _count_fields(selection_set: SelectionSetNode) -> int:
    return sum(1 for s in selection_set.selections if isinstance(s, FieldNode))


def _selection_cost(
    schema: GraphQLSchema,
    parent: GraphQLNamedType | None,
    selection_set: SelectionSetNode | None,
    variables: Variables,
) -> int:
    if selection_set is None or not isinstance(parent, GraphQLObjectType):
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            field = parent.fields.get(selection.name.value)
            if field is not None:
                total += _field_cost(schema, field, selection, variables)
        elif isinstance(selection, InlineFragmentNode):
            on = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            total += _selection_cost(schema, on, selection.selection_set, variables)
        elif isinstance(selection, FragmentSpreadNode):
            total += 1  # fragments by name are not used by omnistock; counted as one object
    return total


def _field_cost(
    schema: GraphQLSchema, field: GraphQLField, node: FieldNode, variables: Variables
) -> int:
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType):
        return 0
    args = _arguments(node, variables)
    inner = _selection_cost(schema, named, node.selection_set, variables)
    if named.name.endswith("Connection"):
        size = _size(args)
        return 1 + _connection_cost(schema, named, node, variables, size)
    return _multiplier(field.type, args) * (1 + inner)


def _connection_cost(
    schema: GraphQLSchema,
    connection: GraphQLObjectType,
    node: FieldNode,
    variables: Variables,
    size: int,
) -> int:
    total = 0
    for selection in node.selection_set.selections if node.selection_set else ():
        if not isinstance(selection, FieldNode):
            continue
        name = selection.name.value
        field = connection.fields.get(name)
        if field is None:
            continue
        if name in ("edges", "nodes"):
            element = get_named_type(field.type)
            total += size * (
                1 + _selection_cost(schema, element, selection.selection_set, variables)
            )
        else:
            total += _field_cost(schema, field, selection, variables)
    return total


def _arguments(node: FieldNode, variables: Variables) -> dict[str, object]:
    return {
        a.name.value: value_from_ast_untyped(a.value, dict(variables)) for a in node.arguments or ()
    }


def _size(args: Mapping[str, object]) -> int:
    for name in _SIZE_ARGS:
        value = args.get(name)
        if isinstance(value, int):
            return value
    return 0


def _multiplier(field_type: GraphQLType, args: Mapping[str, object]) -> int:
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not isinstance(inner, GraphQLList):
        return 1
    for name in _LIST_ARGS:
        value = args.get(name)
        if isinstance(value, list):
            return max(len(value), 1)
    return _size(args) or 1


def actual_cost(data: object, requested: int, *, mutation: bool) -> int:
    """What the call really cost: one point per object returned (a mutation: its flat
    cost), never more than was requested."""
    if mutation:
        return requested
    return min(_objects(data) - 1 if isinstance(data, dict) else 0, requested)


def _objects(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def to_json(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.currently_available,
            "restoreRate": self.restore_rate,
        }


class LeakyBucket:
    """Points restored continuously at `restore_rate` per second up to `maximum`."""

    def __init__(self, maximum: float, restore_rate: float, now: float) -> None:
        if maximum <= 0 or restore_rate <= 0:
            raise ValueError("bucket size and restore rate must be > 0")
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._level = maximum
        self._at = now

    def available(self, now: float) -> float:
        return min(self.maximum, self._level + max(now - self._at, 0.0) * self.restore_rate)

    def try_take(self, cost: float, now: float) -> bool:
        """Take `cost` if the bucket holds it; False (nothing taken) otherwise."""
        level = self.available(now)
        if cost > level + _NOISE:
            return False
        self._level, self._at = max(level - cost, 0.0), now
        return True

    def refund(self, points: float, now: float) -> None:
        self._level, self._at = min(self.maximum, self.available(now) + points), now

    def drain(self, now: float) -> None:
        self._level, self._at = 0.0, now

    def status(self, now: float) -> ThrottleStatus:
        return ThrottleStatus(self.maximum, round(self.available(now), 1), self.restore_rate)
