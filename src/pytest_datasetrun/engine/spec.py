"""The one syntax for choosing a scorer: ``[alias=]ref[(k=v, ...)][>=threshold]``.

The same syntax serves ``--scorer``, the ``datasetrun_scorers`` ini key, and a dataset's
``scorers`` lists (which also accept ``{"scorer": ref, "params": {...}, "threshold": t, "as": alias}``).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_datasetrun.errors import ConfigError

__all__ = ("ScorerSpec", "SpecList", "parse_spec", "parse_threshold", "parse_params")

_SPEC = re.compile(
    r"""^\s*
    (?:(?P<alias>[A-Za-z_][\w\-]*)\s*=(?!=)\s*)?
    (?P<ref>[^\s(>=]+)\s*
    (?:\((?P<params>.*)\))?\s*
    (?:>=\s*(?P<threshold>\S+))?\s*$""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class ScorerSpec:
    """A parsed scorer choice; ``ref`` is an id, a name or ``module:attr``."""

    ref: str
    params: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    alias: str | None = None
    source: str = ""


@dataclass(frozen=True)
class SpecList:
    """Scorer specs from one place; ``trusted`` is False for a dataset file (see ``imports``)."""

    source: str
    specs: Sequence[Any]
    trusted: bool = True


def parse_spec(value: object, *, source: str = "--scorer") -> ScorerSpec:
    """Parse a spec string or mapping; errors name ``source`` and the offending text."""
    if isinstance(value, dict):
        return _from_mapping(value, source)
    if not isinstance(value, str):
        raise ConfigError(
            f"{source}: a scorer is a spec string or an object, got {type(value).__name__}: {value!r}"
        )
    match = _SPEC.match(value)
    if not match:
        raise ConfigError(
            f"{source}: cannot parse scorer spec {value!r}; the syntax is "
            "[alias=]name[(param=value, ...)][>=threshold], e.g. 'contains(ignore_case=true)>=1'"
        )
    params = parse_params(match["params"], source=f"{source} {value!r}") if match["params"] else {}
    threshold = (
        parse_threshold(match["threshold"], source=f"{source} {value!r}")
        if match["threshold"]
        else None
    )
    return ScorerSpec(match["ref"], params, threshold, match["alias"], source)


def _from_mapping(value: dict[str, Any], source: str) -> ScorerSpec:
    unknown = set(value) - {"scorer", "params", "threshold", "as"}
    if unknown or "scorer" not in value:
        raise ConfigError(
            f"{source}: a scorer object has the keys scorer, params, threshold, as; got {sorted(value)}"
        )
    base = parse_spec(value["scorer"], source=source)
    params = value.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{source}: 'params' of scorer {value['scorer']!r} must be an object")
    alias = value.get("as")
    if alias is not None and not (isinstance(alias, str) and alias.strip()):
        raise ConfigError(
            f"{source}: 'as' of scorer {value['scorer']!r} must be a non-empty string"
        )
    threshold = value.get("threshold")
    if threshold is not None:
        threshold = parse_threshold(threshold, source=f"{source} {value['scorer']!r}")
    return ScorerSpec(
        base.ref,
        {**base.params, **params},
        threshold if threshold is not None else base.threshold,
        alias or base.alias,
        source,
    )


def parse_threshold(raw: object, *, source: str) -> float:
    try:
        number = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: threshold {raw!r} is not a number") from None
    if not 0.0 <= number <= 1.0:
        raise ConfigError(f"{source}: threshold {number} is outside [0, 1]")
    return number


def parse_params(text: str, *, source: str) -> dict[str, Any]:
    """Parse ``k=v, k2="x", k3=[1, 2]``; values are JSON, Python literals, or bare strings."""
    params: dict[str, Any] = {}
    for part in _split_top_level(text, source):
        if not part.strip():
            continue
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"{source}: parameter {part.strip()!r} is not of the form name=value")
        params[key] = _parse_value(raw.strip(), f"{source}: parameter {key!r}")
    return params


def _parse_value(raw: str, source: str) -> Any:
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    if raw[:1] in "\"'[{(" and raw:
        # A bare word is a string; text that starts like a literal and does not parse is a typo.
        raise ConfigError(f"{source}: {raw!r} is not a valid JSON or Python value")
    lowered = raw.lower()
    if lowered in ("true", "false", "null", "none"):
        return {"true": True, "false": False}.get(lowered)
    return raw


def _split_top_level(text: str, source: str = "") -> list[str]:
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                raise ConfigError(
                    f"{source}: unbalanced {char!r} in the parameters (quote a value that "
                    "contains brackets)"
                )
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote or depth:
        what = f"an unclosed {quote} quote" if quote else "an unclosed bracket"
        raise ConfigError(
            f"{source}: {what} in the parameters (quote a value that contains brackets)"
        )
    parts.append("".join(current))
    return parts
