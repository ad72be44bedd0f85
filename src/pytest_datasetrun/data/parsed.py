"""What every file parser returns: raw rows with their line numbers, and the dataset header."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_datasetrun.errors import DatasetError

__all__ = ("RawRow", "Parsed", "from_document", "check_header", "HEADER_KEYS")

HEADER_KEYS = ("name", "description", "scorers", "fields", "items")


@dataclass
class RawRow:
    data: Any
    line: int | None = None


@dataclass
class Parsed:
    rows: list[RawRow]
    name: str | None = None
    description: str | None = None
    scorers: list[Any] = field(default_factory=list)
    fields: Any = None
    # For importers: a whole tool document (promptfoo's config) rather than a dataset object.
    document: dict[str, Any] | None = None


def from_document(document: Any, shown: str, lines: list[int] | None) -> Parsed:
    """Rows from a parsed JSON/YAML document: a list of rows or a dataset object with ``items``."""
    if isinstance(document, dict) and "items" not in document:
        # Not a dataset object: a tool's own document (promptfoo's ``tests``) or a single row.
        return Parsed([], document=document)
    header: dict[str, Any] = {}
    if isinstance(document, dict):
        check_header(document, shown)
        header, document = document, document["items"]
    if document is None:
        document = []
    if not isinstance(document, list):
        raise DatasetError(
            shown,
            f"expected a list of rows, got {type(document).__name__}",
            field="items" if header else None,
        )
    scorers = header.get("scorers") or []
    if not isinstance(scorers, list):
        raise DatasetError(shown, "must be a list of scorer specs", field="scorers")
    rows = [
        RawRow(row, lines[i] if lines and i < len(lines) else None)
        for i, row in enumerate(document)
    ]
    name = header.get("name")
    description = header.get("description")
    return Parsed(
        rows,
        str(name) if name is not None else None,
        None if description is None else str(description),
        scorers,
        header.get("fields"),
    )


def check_header(document: dict[str, Any], shown: str) -> None:
    """Refuse a dataset object with a key it does not know, or without ``items``."""
    unknown = [key for key in document if key not in HEADER_KEYS]
    if unknown:
        raise DatasetError(
            shown,
            f"unknown top-level key; a dataset object has {', '.join(HEADER_KEYS)}",
            field=str(unknown[0]),
        )
    if "items" not in document:
        raise DatasetError(shown, "a dataset object needs an 'items' list", field="items")
