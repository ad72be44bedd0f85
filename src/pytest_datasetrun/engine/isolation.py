"""Fresh copies of a row's values for each target call.

A target that mutates its input (``input["history"].append(...)``) must change neither the
recorded input nor what the next repeat or retry sees. JSON-shaped values (what every loader
produces) are copied by a loop without recursion, so any nesting the loaders accept is fine;
strings, numbers and other immutable values are passed as they are, at no cost.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_datasetrun.data.dataset import DatasetItem

__all__ = ("fresh", "call_arguments")

_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, complex, range})


def fresh(value: Any) -> Any:
    """A copy of ``value`` that shares no mutable part with it.

    Dicts and lists are rebuilt level by level; other mutable values go through
    :func:`copy.deepcopy`; a value that cannot be copied (a client, a lock) is passed as it is.
    """
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is not dict and kind is not list:
        return _deepcopy(value)
    root = _shell(value)
    pending = [(value, root)]
    while pending:
        source, target = pending.pop()
        pairs = source.items() if type(source) is dict else enumerate(source)
        for key, child in pairs:
            child_kind = type(child)
            if child_kind in _IMMUTABLE:
                target[key] = child
            elif child_kind is dict or child_kind is list:
                target[key] = _shell(child)
                pending.append((child, target[key]))
            else:
                target[key] = _deepcopy(child)
    return root


def call_arguments(
    item: DatasetItem, kwargs: dict[str, Any], wants_item: bool
) -> tuple[Any, dict[str, Any]]:
    """The input and keyword arguments of one target call, copied fresh from the row."""
    if not wants_item:
        return fresh(item.input), kwargs
    copied = item.model_copy(
        update={
            "input": fresh(item.input),
            "expected": fresh(item.expected),
            "metadata": fresh(item.metadata),
            "tags": list(item.tags),
        }
    )
    return copied.input, {**kwargs, "item": copied}


def _shell(value: dict[Any, Any] | list[Any]) -> Any:
    return dict.fromkeys(value) if type(value) is dict else [None] * len(value)


def _deepcopy(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an uncopyable object is passed as it is
        return value
