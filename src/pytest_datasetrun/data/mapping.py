"""Field mapping: build a row from another tool's columns by dotted paths (``answers.text``)."""

from __future__ import annotations

from typing import Any

from pytest_datasetrun.data.fields import ROW_FIELDS

__all__ = ("apply_mapping", "MISSING", "lookup")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def lookup(row: Any, path: str) -> Any:
    """The value at a dotted path; a number indexes a list; keys match case-insensitively."""
    current = row
    for part in path.split("."):
        if isinstance(current, dict):
            current = _key(current, part)
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else MISSING
        else:
            return MISSING
        if current is MISSING:
            return MISSING
    return current


def _key(mapping: dict[str, Any], part: str) -> Any:
    if part in mapping:
        return mapping[part]
    folded = part.casefold()
    matches = [key for key in mapping if isinstance(key, str) and key.casefold() == folded]
    return mapping[matches[0]] if len(matches) == 1 else MISSING


def apply_mapping(
    row: dict[str, Any], fields: tuple[tuple[str, str], ...]
) -> tuple[dict[str, Any], str | None]:
    """The row with mapped fields; every top-level key not used goes to ``metadata``.

    :returns: the new row, and the path of a mapped field that is missing (else ``None``).
    """
    out: dict[str, Any] = {}
    used = {path.split(".")[0].casefold() for _, path in fields}
    for name, path in fields:
        value = lookup(row, path)
        if value is MISSING:
            return out, path
        out[name] = value
    metadata: dict[str, Any] = {}
    for key, value in row.items():
        folded = str(key).casefold()
        if folded in used:
            continue
        if key in ROW_FIELDS and key not in out:
            out[key] = value
        else:
            metadata[str(key)] = value
    if metadata:
        given = out.get("metadata")
        out["metadata"] = {**metadata, **given} if isinstance(given, dict) else metadata
    return out, None
