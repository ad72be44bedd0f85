"""Reading JSON out of a target's output: parsed values pass through, text is parsed."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

__all__ = ("strip_fences", "parse_json", "to_jsonable", "json_path")

_FENCE = re.compile(r"^\s*```[\w-]*[ \t]*\n(?P<body>.*?)\n?\s*```\s*$", re.DOTALL)


def strip_fences(text: str) -> str:
    """Return the body of a Markdown code fence wrapping the whole text, else the text."""
    match = _FENCE.match(text)
    return match.group("body") if match else text


def parse_json(value: Any, *, fences: bool = True) -> Any:
    """Return ``value`` parsed as JSON: a ``str``/``bytes`` is parsed, anything else passes through.

    :param value: a target output or expected value.
    :param fences: accept text wrapped in a Markdown code fence (`````json ... `````).
    :raises ValueError: (:class:`json.JSONDecodeError`) when text is not JSON.
    """
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8")
    if not isinstance(value, str):
        return to_jsonable(value)
    return json.loads(strip_fences(value) if fences else value)


def to_jsonable(value: Any) -> Any:
    """Turn a pydantic model or a dataclass instance into plain data, and every tuple (at any
    depth) into a list: a Python tuple is a JSON array for every structure scorer."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return _arrays(value)


def _arrays(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_arrays(v) for v in value]
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    return value


def json_path(path: tuple[str | int, ...]) -> str:
    """Render a key path as ``$.a[0].b`` for reasons and reports."""
    rendered = "$"
    for part in path:
        rendered += f"[{part}]" if isinstance(part, int) else f".{part}"
    return rendered
