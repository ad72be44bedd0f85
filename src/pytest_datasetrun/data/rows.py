"""From parsed rows to dataset rows: field mapping, importer shapes, or the native form."""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_datasetrun.data import importers
from pytest_datasetrun.data.mapping import apply_mapping
from pytest_datasetrun.data.parsed import Parsed, RawRow
from pytest_datasetrun.data.settings import SHAPES, LoadSettings, parse_fields
from pytest_datasetrun.errors import ConfigError, DatasetError

__all__ = ("Shaped", "shape_rows")


@dataclass
class Shaped:
    """Rows in the dataset's own form, the shape they came in, and notes for one warning."""

    rows: list[RawRow]
    shape: str
    warnings: list[str] = field(default_factory=list)
    # The dataset header (name, description, scorers): a tool's document may carry its own.
    header: Parsed | None = None


def shape_rows(parsed: Parsed, kind: str, shown: str, settings: LoadSettings) -> Shaped:
    """Apply the mapping (header ``fields`` first, then the option) or the detected shape."""
    parsed = importers.document_rows(parsed, shown)
    shaped = _shape(parsed, kind, shown, settings)
    shaped.header = parsed
    return shaped


def _shape(parsed: Parsed, kind: str, shown: str, settings: LoadSettings) -> Shaped:
    fields = _fields(parsed, shown) or settings.fields
    if fields:
        rows = [_mapped(raw, fields, shown, i) for i, raw in enumerate(parsed.rows)]
        return Shaped(rows, "mapped")
    shape = settings.format if settings.format in SHAPES else _detect(parsed)
    if shape == "native":
        if kind == "csv":
            from pytest_datasetrun.data.csvfile import fold_extras

            if "input" not in parsed.rows[0].data:
                raise DatasetError(
                    shown,
                    "the CSV header has no 'input' column (name one with --dataset-fields "
                    "input=COLUMN)",
                    line=1,
                    field="input",
                )
            return Shaped([RawRow(fold_extras(r.data), r.line) for r in parsed.rows], shape)
        return Shaped(parsed.rows, shape)
    notes: list[str] = []
    rows = [_converted(raw, shape, shown, i, notes) for i, raw in enumerate(parsed.rows)]
    return Shaped(rows, shape, _warnings(shape, shown, notes))


def _detect(parsed: Parsed) -> str:
    return importers.detect(parsed.rows[0].data) if parsed.rows else "native"


def _fields(parsed: Parsed, shown: str) -> tuple[tuple[str, str], ...]:
    if parsed.fields is None:
        return ()
    try:
        return parse_fields(parsed.fields, "fields")
    except ConfigError as exc:
        message = str(exc).removeprefix("fields: ")
        raise DatasetError(shown, message, field="fields") from None


def _mapped(raw: RawRow, fields: tuple[tuple[str, str], ...], shown: str, index: int) -> RawRow:
    if not isinstance(raw.data, dict):
        return raw  # validation names it
    row, missing = apply_mapping(raw.data, fields)
    if missing is not None:
        raise DatasetError(
            shown,
            "a mapped field is not in this row (check --dataset-fields or the 'fields' header)",
            line=raw.line,
            row=index + 1,
            field=missing,
        )
    return RawRow(row, raw.line)


def _converted(raw: RawRow, shape: str, shown: str, index: int, notes: list[str]) -> RawRow:
    if not isinstance(raw.data, dict):
        return raw
    before = len(notes)
    try:
        row = importers.CONVERTERS[shape](raw.data, notes)
    except importers.RowProblem as exc:
        raise DatasetError(
            shown, f"{exc} ({shape} shape)", line=raw.line, row=index + 1, field=exc.field
        ) from None
    for n in range(before, len(notes)):
        notes[n] = f"row {index + 1}: {notes[n]}"
    return RawRow(row, raw.line)


def _warnings(shape: str, shown: str, notes: list[str]) -> list[str]:
    if not notes:
        return []
    listed = "; ".join(notes[:20]) + (f"; and {len(notes) - 20} more" if len(notes) > 20 else "")
    return [
        f"{shown}: {len(notes)} {shape} assertion(s) not carried over as written (no built-in "
        f"scorer does it; write one and add it with --scorer): {listed}"
    ]
