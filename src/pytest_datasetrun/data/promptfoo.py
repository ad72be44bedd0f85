"""promptfoo test cases: ``vars`` become the input, assertions become built-in scorers.

An assertion with a built-in counterpart is mapped (``icontains`` -> ``contains`` with
``ignore_case``); the others (``javascript``, ``python``, ``llm-rubric``...) are never run:
the loader lists them in one warning. ``{{var}}`` in an assertion value is filled from ``vars``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ("convert", "from_csv", "MAPPED")

_PASS = 1.0
# promptfoo type -> (scorer, the param holding the value, extra params); None: the value is
# the row's expected value.
MAPPED: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "equals": ("exact_match", None, {}),
    "contains": ("contains", "substring", {}),
    "icontains": ("contains", "substring", {"ignore_case": True}),
    "contains-any": ("contains_any", "substrings", {}),
    "icontains-any": ("contains_any", "substrings", {"ignore_case": True}),
    "contains-all": ("contains_all", "substrings", {}),
    "icontains-all": ("contains_all", "substrings", {"ignore_case": True}),
    "not-contains": ("excludes", "substrings", {}),
    "not-icontains": ("excludes", "substrings", {"ignore_case": True}),
    "starts-with": ("starts_with", "prefix", {}),
    "regex": ("regex", "pattern", {}),
    "is-json": ("json_valid", "", {}),
    "levenshtein": ("levenshtein", None, {}),
    "similar": ("semantic_similarity", None, {}),
}
_LIST_PARAMS = ("substrings",)
_CSV_ASSERT = re.compile(r"^(not-)?([a-z][a-z-]*)(?:\(([\d.]+)\))?(?::(.*))?$", re.DOTALL)
_CSV_ALIASES = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}
_VAR = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


def convert(row: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """A dataset row from one promptfoo test; unmapped assertions are appended to ``notes``."""
    variables = row.get("vars") or {}
    out: dict[str, Any] = {"input": variables}
    scorers: list[dict[str, Any]] = []
    for assertion in _assertions(row.get("assert")):
        kind = str(assertion.get("type", ""))
        value = _fill(assertion.get("value"), variables)
        if kind not in MAPPED or (MAPPED[kind][1] is None and _clashes(out, value)):
            notes.append(kind or "(no type)")
            continue
        scorers.append(_scorer(kind, value, assertion, out, notes))
    if scorers:
        out["scorers"] = _aliased(scorers)
    metadata = {key: row[key] for key in ("description", "options", "threshold") if key in row}
    if isinstance(row.get("metadata"), dict):
        metadata.update(row["metadata"])
    if metadata:
        out["metadata"] = metadata
    return out


def from_csv(record: dict[str, Any]) -> dict[str, Any]:
    """A promptfoo test from a CSV row: plain columns are vars, ``__expectedN`` are assertions."""
    test: dict[str, Any] = {"vars": {}, "assert": []}
    metadata: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("__expected") and value:
            test["assert"].append(_csv_assertion(str(value)))
        elif key == "__description" and value:
            test["description"] = value
        elif key.startswith("__metadata:"):
            metadata[key.removeprefix("__metadata:")] = value
        elif not key.startswith("__"):
            test["vars"][key] = value
    if metadata:
        test["metadata"] = metadata
    return test


def _csv_assertion(text: str) -> dict[str, Any]:
    """promptfoo's assertion strings: ``contains:France``, ``similar(0.7):text``, else equals."""
    prefix = text.split(":", 1)[0]
    if prefix in ("javascript", "python", "llm-rubric", *_CSV_ALIASES) or text.startswith(
        "file://"
    ):
        kind = _CSV_ALIASES.get(prefix, prefix if not text.startswith("file://") else "python")
        return {"type": kind, "value": text.partition(":")[2]}
    match = _CSV_ASSERT.match(text)
    if not match or f"{match[2]}" not in {k.removeprefix("not-") for k in MAPPED} | {"equals"}:
        return {"type": "equals", "value": text}
    kind = (match[1] or "") + match[2]
    value: Any = match[4] if match[4] is not None else ""
    if match[2] in ("contains-any", "contains-all", "icontains-any", "icontains-all"):
        value = [part.strip() for part in value.split(",")]
    assertion: dict[str, Any] = {"type": kind, "value": value}
    if match[3]:
        assertion["threshold"] = float(match[3])
    return assertion


def _assertions(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _clashes(out: dict[str, Any], value: Any) -> bool:
    """A second reference-taking assertion with another value: one row has one expected."""
    return "expected" in out and out["expected"] != value


def _scorer(
    kind: str, value: Any, assertion: dict[str, Any], out: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    name, param, extra = MAPPED[kind]
    params = dict(extra)
    if param is None:
        out["expected"] = value
    elif param:
        params[param] = [value] if param in _LIST_PARAMS and isinstance(value, str) else value
    threshold: float | None = _PASS
    if kind == "similar":
        threshold = float(assertion.get("threshold", 0.8))
    elif kind == "levenshtein":
        # promptfoo's threshold is an edit distance; ours is a 0..1 similarity: record only.
        threshold = None
        notes.append("levenshtein (scored, but its distance threshold is not applied)")
    spec: dict[str, Any] = {"scorer": name, "params": params}
    if threshold is not None:
        spec["threshold"] = threshold
    return spec


def _aliased(scorers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give a repeated scorer an alias (``contains_2``) so both run."""
    counts: dict[str, int] = {}
    for spec in scorers:
        counts[spec["scorer"]] = counts.get(spec["scorer"], 0) + 1
        if counts[spec["scorer"]] > 1:
            spec["as"] = f"{spec['scorer']}_{counts[spec['scorer']]}"
    return scorers


def _fill(value: Any, variables: Any) -> Any:
    if not isinstance(value, str) or not isinstance(variables, dict):
        return value
    return _VAR.sub(
        lambda match: str(variables[match[1]]) if match[1] in variables else match[0], value
    )
