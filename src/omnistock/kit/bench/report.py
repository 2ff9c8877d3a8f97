"""Rendering a scenario's result (nested figures) as rows of a table: one row per figure,
a median with its range written `median (min..max)`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

SPREAD_KEYS = frozenset({"median", "min", "max"})


def rows(result: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, value) for every leaf of `result`; spreads become one row."""
    for key, value in result.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            if set(value) == SPREAD_KEYS:
                yield path, _spread(value)
            else:
                yield from rows(value, path)
        else:
            yield path, _scalar(value)


def _spread(value: Mapping[str, object]) -> str:
    median, low, high = (_scalar(value[k]) for k in ("median", "min", "max"))
    return median if low == high else f"{median} ({low}..{high})"


def _scalar(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
