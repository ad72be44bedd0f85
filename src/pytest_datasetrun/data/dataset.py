"""Dataset models (``DatasetItem``, ``Dataset``) and the loader for every supported format."""

from __future__ import annotations

import difflib
import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from pytest_datasetrun.data import formats
from pytest_datasetrun.data.fields import EXPECTED_ALIASES, ROW_FIELDS
from pytest_datasetrun.data.ids import content_id, unique_slugs
from pytest_datasetrun.data.limits import value_problem
from pytest_datasetrun.data.parsed import RawRow
from pytest_datasetrun.data.rows import shape_rows
from pytest_datasetrun.data.settings import LoadSettings
from pytest_datasetrun.errors import DatasetError

__all__ = (
    "DatasetItem",
    "Dataset",
    "LoadSettings",
    "load_dataset",
    "validate_rows",
    "ROW_FIELDS",
)


class DatasetItem(BaseModel):
    """One dataset row.

    ``id`` is the raw id (given, or derived from the content); ``slug`` is the node-id-safe name
    the pytest item gets. ``scorers`` lets one row add scorers or override their parameters.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = ""
    input: Any
    expected: Any = Field(default=None, validation_alias=AliasChoices(*EXPECTED_ALIASES))
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    scorers: list[Any] = Field(default_factory=list)
    slug: str = ""
    index: int = 0
    line: int | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: object) -> object:
        if isinstance(value, bool) or value is None:
            raise ValueError("must be a string or an integer")
        return str(value) if isinstance(value, int) else value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_from_string(cls, value: object) -> object:
        if isinstance(value, str):
            return [tag.strip() for tag in value.replace(";", ",").split(",") if tag.strip()]
        return value


class Dataset(BaseModel):
    """A loaded dataset file: its rows in file order plus what a run record needs to know."""

    path: str
    name: str
    description: str | None = None
    scorers: list[Any] = Field(default_factory=list)
    items: list[DatasetItem]
    sha256: str
    format: str
    # What the loader could not carry over (promptfoo assertions without a scorer): one warning.
    warnings: list[str] = Field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.items)

    def by_slug(self) -> dict[str, DatasetItem]:
        return {item.slug: item for item in self.items}


def load_dataset(
    path: str | Path, *, display: str | None = None, settings: LoadSettings | None = None
) -> Dataset:
    """Load and validate a dataset (``.json``, ``.jsonl``, ``.csv``, ``.yaml``, ``.parquet``...).

    :param path: the file (or ``save_to_disk`` folder) to read.
    :param display: how the path is named in error messages (defaults to ``path``).
    :param settings: field mapping, format, encoding; the defaults read the native format.
    :raises DatasetError: naming the file, line or row, and field of the first problem.
    """
    path = Path(path)
    shown = display or str(path)
    settings = settings or LoadSettings()
    # Thousands of new objects and no cycles among them: collecting while they are made only
    # walks the whole heap again and again (about a quarter of the time of a 10k-row load).
    with paused_gc():
        source = formats.read_source(path, shown, settings)
        shaped = shape_rows(source.parsed, source.kind, shown, settings)
        if not shaped.rows:
            raise DatasetError(shown, "the dataset has no rows")
        items = _validate_rows(shaped.rows, shown)
    parsed = shaped.header or source.parsed
    return Dataset(
        path=str(path),
        name=parsed.name or path.stem,
        description=parsed.description,
        scorers=parsed.scorers,
        items=items,
        sha256=source.sha256,
        format=source.kind if shaped.shape in ("native", "mapped") else shaped.shape,
        warnings=shaped.warnings,
    )


def validate_rows(name: str, rows: list[dict[str, Any]]) -> Dataset:
    """A dataset from rows already in memory (for scripts and notebooks), validated like a file."""
    import json

    with paused_gc():
        items = _validate_rows([RawRow(row) for row in rows], name)
    data = json.dumps(rows, sort_keys=True, default=repr).encode()
    return Dataset(
        path=name,
        name=name.strip("<>"),
        items=items,
        sha256=hashlib.sha256(data).hexdigest(),
        format="memory",
    )


def _validate_rows(rows: list[RawRow], shown: str) -> list[DatasetItem]:
    items: list[DatasetItem] = []
    for index, raw in enumerate(rows):
        row = raw.data
        if not isinstance(row, dict):
            raise DatasetError(
                shown,
                f"a row must be an object, got {type(row).__name__}",
                line=raw.line,
                row=index + 1,
            )
        _check_fields(row, shown, raw.line, index)
        problem = value_problem(row)
        if problem:
            raise DatasetError(shown, problem[1], line=raw.line, row=index + 1, field=problem[0])
        try:
            item = DatasetItem.model_validate(row)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or None
            raise DatasetError(
                shown, error["msg"], line=raw.line, row=index + 1, field=field
            ) from None
        item.index = index
        item.line = raw.line
        items.append(item)
    _assign_ids(items, shown)
    return items


_ALLOWED = frozenset((*ROW_FIELDS, *EXPECTED_ALIASES))


def _check_fields(row: dict[str, Any], shown: str, line: int | None, index: int) -> None:
    for key in row:
        if key not in _ALLOWED:
            hint = difflib.get_close_matches(str(key), sorted(_ALLOWED), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise DatasetError(
                shown,
                f"unknown field{suggestion}; a row has {', '.join(ROW_FIELDS)} "
                "(put anything else under 'metadata')",
                line=line,
                row=index + 1,
                field=str(key),
            )
    given = [alias for alias in EXPECTED_ALIASES if alias in row]
    if len(given) > 1:
        raise DatasetError(
            shown, f"give only one of {', '.join(given)}", line=line, row=index + 1, field=given[1]
        )
    if "input" not in row:
        raise DatasetError(
            shown, "required field is missing", line=line, row=index + 1, field="input"
        )


def _assign_ids(items: list[DatasetItem], shown: str) -> None:
    first_row: dict[str, DatasetItem] = {}
    auto_count: dict[str, int] = {}
    for item in items:
        if not item.id:
            base = content_id(item.input, item.expected)
            auto_count[base] = auto_count.get(base, 0) + 1
            item.id = base if auto_count[base] == 1 else f"{base}-{auto_count[base]}"
        previous = first_row.setdefault(item.id, item)
        if previous is not item:
            raise DatasetError(
                shown,
                f"duplicate id '{item.id}': also used by row {previous.index + 1}"
                + (f" (line {previous.line})" if previous.line else ""),
                line=item.line,
                row=item.index + 1,
                field="id",
            )
    for item, slug in zip(items, unique_slugs([item.id for item in items]), strict=True):
        item.slug = slug


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside the block (left as it was if already off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
