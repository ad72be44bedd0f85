"""JSON and JSON Lines parsers: rows with their line numbers, duplicate keys refused."""

from __future__ import annotations

import json
import re
from typing import Any

from pytest_datasetrun.data.parsed import Parsed, RawRow, from_document
from pytest_datasetrun.errors import DatasetError

__all__ = ("parse_json", "parse_jsonl", "parse_cell")

_SPACE = re.compile(r"[ \t\n\r]*")
# JSON strings cannot hold a raw CR or LF, so these are the only line breaks of a JSON Lines
# file; U+2028, U+2029 and U+0085 are text inside a string, never a break (issue 11, item 10).
_BREAK = re.compile(r"\r\n|\r|\n")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def parse_jsonl(text: str, shown: str) -> Parsed:
    rows: list[RawRow] = []
    for number, line in enumerate(_BREAK.split(text), start=1):
        if line.strip():
            value, _ = _decode(line, 0, shown, number, len(rows) + 1, whole=True)
            rows.append(RawRow(value, number))
    if not rows:
        raise DatasetError(shown, "the file has no rows (it is empty)")
    return Parsed(rows)


def parse_cell(text: str, shown: str, line: int, row: int, field: str) -> Any:
    """A CSV cell holding JSON; errors name the cell's field."""
    value, _ = _decode(text.strip(), 0, shown, line, row, whole=True, cell=field)
    return value


class _Lines:
    """Line numbers of increasing offsets, counted once (a large file stays linear)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            return self.text.count("\n", 0, pos) + 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def parse_json(text: str, shown: str) -> Parsed:
    """A list of rows, or a dataset object whose ``items`` list is read row by row."""
    lines = _Lines(text)
    start = _skip(text, 0)
    if start == len(text):
        raise DatasetError(shown, "the file is empty: a JSON dataset is a list of rows")
    if text.startswith("[", start):
        rows, end = _array(lines, start, shown)
        document: Any = [row.data for row in rows]
    elif text.startswith("{", start):
        document, rows, end = _header(lines, start, shown)
    else:
        document, end = _decode(text, start, shown, lines.at(start), None)
        rows = []
    if _skip(text, end) != len(text):
        _fail(shown, "extra data after the document", lines, _skip(text, end))
    return from_document(document, shown, lines=[row.line or 0 for row in rows] or None)


def _header(lines: _Lines, start: int, shown: str) -> tuple[dict[str, Any], list[RawRow], int]:
    """Decode ``{...}`` key by key so the ``items`` rows keep their lines."""
    text = lines.text
    header: dict[str, Any] = {}
    rows: list[RawRow] = []
    pos = _skip(text, start + 1)
    if text.startswith("}", pos):
        return header, rows, pos + 1
    while True:
        if not text.startswith('"', pos):
            _fail(shown, "invalid JSON: expected a key in double quotes", lines, pos)
        key, pos = _decode(text, pos, shown, lines.at(pos), None)
        pos = _skip(text, pos)
        if not text.startswith(":", pos):
            _fail(shown, "invalid JSON: expected ':' after a key", lines, pos)
        pos = _skip(text, pos + 1)
        if key in header:
            raise DatasetError(
                shown, "duplicate key in the dataset object", line=lines.at(pos), field=key
            )
        if key == "items" and text.startswith("[", pos):
            rows, pos = _array(lines, pos, shown)
            header[key] = [row.data for row in rows]
        else:
            header[key], pos = _decode(text, pos, shown, lines.at(pos), None)
        pos = _skip(text, pos)
        if text.startswith("}", pos):
            return header, rows, pos + 1
        if not text.startswith(",", pos):
            _fail(shown, "invalid JSON: expected ',' or '}'", lines, pos)
        pos = _skip(text, pos + 1)


def _array(lines: _Lines, start: int, shown: str) -> tuple[list[RawRow], int]:
    text = lines.text
    rows: list[RawRow] = []
    pos = _skip(text, start + 1)
    if text.startswith("]", pos):
        return rows, pos + 1
    while True:
        line = lines.at(pos)
        value, pos = _decode(text, pos, shown, line, len(rows) + 1)
        rows.append(RawRow(value, line))
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return rows, pos + 1
        if not text.startswith(",", pos):
            _fail(shown, "invalid JSON: expected ',' or ']'", lines, pos)
        pos = _skip(text, pos + 1)


def _decode(
    text: str,
    pos: int,
    shown: str,
    line: int,
    row: int | None,
    *,
    whole: bool = False,
    cell: str | None = None,
) -> tuple[Any, int]:
    """Decode one JSON value at ``pos``; ``whole``: it must be all of ``text`` (a line, a cell)."""
    what = "invalid JSON in cell" if cell else "invalid JSON"
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except _DuplicateKey as exc:
        message = "duplicate key (a key may appear once per object)"
        raise DatasetError(shown, message, line=line, row=row, field=cell or exc.key) from None
    except json.JSONDecodeError as exc:
        where = line if whole else exc.lineno  # a line or a cell is decoded on its own
        message = f"{what}: {exc.msg} (column {exc.colno})"
        raise DatasetError(shown, message, line=where, row=row, field=cell) from None
    except RecursionError:
        raise DatasetError(
            shown, "nested too deeply to read", line=line, row=row, field=cell
        ) from None
    except ValueError as exc:  # an integer over sys.get_int_max_str_digits() digits
        raise DatasetError(
            shown, _value_message(exc, what), line=line, row=row, field=cell
        ) from None
    if whole and _skip(text, end) != len(text):
        raise DatasetError(
            shown, f"{what}: extra data after the value", line=line, row=row, field=cell
        )
    return value, end


def _value_message(exc: ValueError, what: str) -> str:
    if "digits" in str(exc):
        return "an integer with more than 4300 digits; write it as a string"
    return f"{what}: {exc}"


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _fail(shown: str, message: str, lines: _Lines, pos: int) -> None:
    raise DatasetError(shown, message, line=lines.at(pos))
