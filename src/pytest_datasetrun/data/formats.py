"""Parsers for the dataset file formats; each turns bytes into raw rows with line numbers."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_datasetrun.data.fields import EXPECTED_ALIASES, ROW_FIELDS
from pytest_datasetrun.errors import DatasetError

__all__ = ("RawRow", "Parsed", "kind_of", "parse", "EXTENSIONS")

EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".yaml": "yaml",
    ".yml": "yaml",
}
_HEADER_KEYS = ("name", "description", "scorers", "items")
_CSV_JSON_COLUMNS = ("metadata", "scorers")


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


def kind_of(path: Path, shown: str) -> str:
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(
            shown,
            f"unknown dataset extension '{path.suffix or '(none)'}'; use one of "
            + ", ".join(sorted(EXTENSIONS)),
        )
    return kind


def parse(kind: str, data: bytes, shown: str) -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(shown, f"is not UTF-8 text (byte {exc.start})") from None
    return _PARSERS[kind](text, shown)


def _parse_json(text: str, shown: str) -> Parsed:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            shown, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    return _from_document(document, shown, lines=None)


def _parse_jsonl(text: str, shown: str) -> Parsed:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(RawRow(json.loads(line), number))
        except json.JSONDecodeError as exc:
            raise DatasetError(
                shown,
                f"invalid JSON: {exc.msg} (column {exc.colno})",
                line=number,
                row=len(rows) + 1,
            ) from None
    return Parsed(rows)


def _parse_csv(text: str, shown: str) -> Parsed:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    if not reader.fieldnames:
        return Parsed([])
    if "input" not in reader.fieldnames:
        raise DatasetError(shown, "the CSV header has no 'input' column", line=1, field="input")
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record:
                raise DatasetError(
                    shown, "more cells than header columns", line=line, row=len(rows) + 1
                )
            rows.append(RawRow(_csv_row(record, shown, line, len(rows) + 1), line))
    except csv.Error as exc:
        raise DatasetError(shown, f"malformed CSV: {exc}", line=reader.line_num) from None
    return Parsed(rows)


def _csv_row(record: dict[str, Any], shown: str, line: int, row: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in record.items():
        if (key in _CSV_JSON_COLUMNS and value) or (
            key == "tags" and value.strip().startswith("[")
        ):
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise DatasetError(
                    shown, f"invalid JSON in cell: {exc.msg}", line=line, row=row, field=key
                ) from None
        elif key in ROW_FIELDS or key in EXPECTED_ALIASES:
            if value != "" or key == "input":
                out[key] = value
        else:
            extra[key] = value
    if extra:
        out["metadata"] = {**extra, **out.get("metadata", {})}
    return out


def _parse_yaml(text: str, shown: str) -> Parsed:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DatasetError(
            shown, f"invalid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    return _from_document(document, shown, lines=_yaml_row_lines(node))


def _yaml_row_lines(node: Any) -> list[int] | None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "items":
                node = value
                break
    if isinstance(node, yaml.SequenceNode):
        return [child.start_mark.line + 1 for child in node.value]
    return None


def _from_document(document: Any, shown: str, lines: list[int] | None) -> Parsed:
    header: dict[str, Any] = {}
    if isinstance(document, dict):
        unknown = [key for key in document if key not in _HEADER_KEYS]
        if unknown:
            raise DatasetError(
                shown,
                f"unknown top-level key; a dataset object has {', '.join(_HEADER_KEYS)}",
                field=str(unknown[0]),
            )
        if "items" not in document:
            raise DatasetError(shown, "a dataset object needs an 'items' list", field="items")
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
    return Parsed(rows, str(name) if name is not None else None, description, scorers)


_PARSERS = {"json": _parse_json, "jsonl": _parse_jsonl, "csv": _parse_csv, "yaml": _parse_yaml}
