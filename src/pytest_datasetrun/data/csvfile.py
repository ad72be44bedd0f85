"""The CSV parser: sniffed delimiter, case-insensitive headers, every cell accounted for."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pytest_datasetrun.data.fields import EXPECTED_ALIASES, ROW_FIELDS
from pytest_datasetrun.data.parsed import Parsed, RawRow
from pytest_datasetrun.errors import DatasetError

__all__ = ("parse_csv", "fold_extras", "DELIMITERS")

DELIMITERS = (",", ";", "\t", "|")
_ALWAYS_JSON = ("metadata", "scorers")
_NATIVE = {name.casefold(): name for name in (*ROW_FIELDS, *EXPECTED_ALIASES)}


def parse_csv(text: str, shown: str, *, json_cells: tuple[str, ...] = ()) -> Parsed:
    """Rows of a CSV file; ``json_cells`` names columns whose cells are JSON (``input``...)."""
    delimiter = _sniff(text)
    with _large_fields():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        header = _read(reader, shown)
        if header is None:
            raise DatasetError(shown, "the file is empty: a CSV dataset needs a header line")
        names = _header(header, shown)
        rows: list[RawRow] = []
        start = reader.line_num + 1
        while (cells := _read(reader, shown)) is not None:
            if cells:  # a blank line is not a row
                row = len(rows) + 1
                _check_width(cells, names, shown, start, row)
                record = dict(zip(names, cells, strict=True))
                rows.append(RawRow(_row(record, shown, start, row, json_cells), start))
            start = reader.line_num + 1
    if not rows:
        raise DatasetError(shown, "the file has a header but no rows")
    return Parsed(rows)


def _sniff(text: str) -> str:
    """The delimiter that splits the header line into the most columns (``,`` on a tie)."""
    first = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


@contextmanager
def _large_fields() -> Iterator[None]:
    # The default limit (128 KiB) refuses valid files with a long cell (issue 11, item 10).
    previous = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _read(reader: Any, shown: str) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise DatasetError(shown, f"malformed CSV: {exc}", line=reader.line_num) from None


def _header(cells: list[str], shown: str) -> list[str]:
    names = [_NATIVE.get(cell.strip().casefold(), cell.strip()) for cell in cells]
    seen: dict[str, int] = {}
    for column, name in enumerate(names, start=1):
        if name in seen:
            raise DatasetError(
                shown,
                f"duplicate column in the header (columns {seen[name]} and {column})",
                line=1,
                field=name,
            )
        seen[name] = column
    return names


def _check_width(cells: list[str], names: list[str], shown: str, line: int, row: int) -> None:
    if len(cells) > len(names):
        raise DatasetError(
            shown,
            f"more cells than header columns ({len(cells)} cells, {len(names)} columns)",
            line=line,
            row=row,
        )
    if len(cells) < len(names):
        raise DatasetError(
            shown,
            f"fewer cells than header columns ({len(cells)} cells, {len(names)} columns; an "
            "empty cell is written as two delimiters)",
            line=line,
            row=row,
            field=names[len(cells)],
        )


def _row(
    record: dict[str, str], shown: str, line: int, row: int, json_cells: tuple[str, ...]
) -> dict[str, Any]:
    """Every column of the row; JSON cells parsed; empty cells of optional row fields left out."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if _is_json(key, value, json_cells):
            out[key] = _json_cell(value, shown, line, row, key)
        elif value != "" or key == "input" or key not in _NATIVE.values():
            out[key] = value
    return out


def fold_extras(record: dict[str, Any]) -> dict[str, Any]:
    """A plain CSV row: columns that are not row fields go to ``metadata``."""
    out = {key: value for key, value in record.items() if key in _NATIVE.values()}
    extra = {key: value for key, value in record.items() if key not in _NATIVE.values()}
    metadata = out.get("metadata", {})
    if extra and isinstance(metadata, dict):  # otherwise validation names the 'metadata' cell
        out["metadata"] = {**extra, **metadata}
    return out


def _is_json(key: str, value: str, json_cells: tuple[str, ...]) -> bool:
    if not value:
        return False
    if key in _ALWAYS_JSON or key in json_cells:
        return True
    return key == "tags" and value.strip().startswith("[")


def _json_cell(value: str, shown: str, line: int, row: int, key: str) -> Any:
    from pytest_datasetrun.data.jsontext import parse_cell

    return parse_cell(value, shown, line, row, key)
