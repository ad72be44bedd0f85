"""Bounds on what a dataset row may hold, checked without recursion (issue 11, items 3 and 9)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ("MAX_DEPTH", "MAX_DIGITS", "value_problem")

# Deeper rows would break pydantic's serialiser (~254 levels) or a parser (~1000) further on.
MAX_DEPTH = 100
# CPython refuses to convert longer integers to or from text (sys.get_int_max_str_digits()).
MAX_DIGITS = 4300
_TOO_BIG = 10**MAX_DIGITS


def value_problem(value: Any) -> tuple[str, str] | None:
    """The first thing in ``value`` a run could not record faithfully, as ``(field, message)``.

    ``field`` is a dotted path inside the row (``input.steps.3``); ``None`` when all is well.
    """
    if _clean(value):
        return None
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        current, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return _dotted(path[:3]) + "...", f"nested deeper than {MAX_DEPTH} levels"
        problem = _scalar_problem(current)
        if problem:
            return _dotted(path), problem
        if isinstance(current, dict):
            stack.extend((child, (*path, str(key))) for key, child in reversed(current.items()))
        elif isinstance(current, list):
            stack.extend(
                (child, (*path, str(i))) for i, child in reversed(list(enumerate(current)))
            )
    return None


def _clean(value: Any) -> bool:
    """Whether ``value`` certainly has no problem: one walk without paths (the common row)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        kind = type(current)
        if kind is str or current is None or kind is bool:
            continue
        if depth > MAX_DEPTH or _scalar_problem(current):
            return False
        if kind is dict:
            stack.extend((child, depth + 1) for child in current.values())
        elif kind is list:
            stack.extend((child, depth + 1) for child in current)
        elif isinstance(current, (dict, list)):
            return False  # a subclass: the full walk decides
    return True


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return (
            f"{value} is not a number JSON can record (it would be stored as null); "
            f'write it as a string ("{value}") or leave the field out'
        )
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _TOO_BIG:
        return f"an integer with more than {MAX_DIGITS} digits; write it as a string"
    return None


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)
