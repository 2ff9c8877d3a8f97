"""A record of every API call a sandbox answered, for assertions and benchmarks.

Tests read it in-process; harnesses read it through `GET /_sandbox/calls`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One answered API request."""

    operation: str
    items: int
    status: int
    at: float
    duration_ms: float
    faulted: bool

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class CallLog:
    """Append-only list of calls, in the order they completed."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self._records.append(call)

    def records(self) -> tuple[CallRecord, ...]:
        return tuple(self._records)

    def clear(self) -> None:
        self._records.clear()

    def count(self, operation: str | None = None) -> int:
        return sum(1 for c in self._records if operation in (None, c.operation))

    def by_operation(self) -> dict[str, int]:
        return dict(Counter(c.operation for c in self._records))
