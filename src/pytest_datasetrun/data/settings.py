"""How to read dataset files: field mapping, format or importer, encoding, JSON cells.

Built from ``--dataset-fields``, ``--dataset-format``, ``--dataset-encoding`` and
``--dataset-json-cells`` (or their ``datasetrun_dataset_*`` ini keys); a dataset object's
``fields`` header overrides the mapping for its own file.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from pytest_datasetrun.data.fields import ROW_FIELDS
from pytest_datasetrun.errors import ConfigError

__all__ = ("LoadSettings", "parse_fields", "FILE_KINDS", "SHAPES")

FILE_KINDS = ("json", "jsonl", "csv", "yaml", "parquet", "arrow", "hf-disk")
SHAPES = ("native", "openai-evals", "promptfoo", "deepeval", "langsmith")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSettings:
    """Options for :func:`~pytest_datasetrun.data.dataset.load_dataset`.

    :param fields: ``(row field, dotted path in the file's row)`` pairs; empty: no mapping.
    :param format: a file kind (``csv``...) overriding the extension, or an importer shape.
    :param encoding: the text encoding of JSON, JSON Lines, CSV and YAML files.
    :param json_cells: CSV columns whose cells are JSON (``metadata`` and ``scorers`` always are).
    """

    fields: tuple[tuple[str, str], ...] = ()
    format: str | None = None
    encoding: str = "utf-8"
    json_cells: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, fields: str, format: str, encoding: str, json_cells: str) -> LoadSettings:
        """Parse the option texts; raise :class:`ConfigError` naming the option."""
        if format and format not in FILE_KINDS + SHAPES:
            raise ConfigError(
                f"--dataset-format: unknown format {format!r}; use one of "
                + ", ".join(FILE_KINDS + SHAPES)
            )
        encoding = encoding or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(
                f"--dataset-encoding: unknown encoding {encoding!r}, e.g. utf-8, cp1252, latin-1"
            ) from None
        cells = tuple(part.strip() for part in json_cells.split(",") if part.strip())
        return cls(
            fields=parse_fields(fields, "--dataset-fields") if fields else (),
            format=format or None,
            encoding=encoding,
            json_cells=cells,
        )


def parse_fields(value: object, source: str) -> tuple[tuple[str, str], ...]:
    """``input=question,expected=answers.text`` (or a mapping) as ``(field, path)`` pairs."""
    if isinstance(value, dict):
        pairs = [(str(key), str(path)) for key, path in value.items()]
    elif isinstance(value, str):
        pairs = [
            _pair(part, source) for part in value.replace("\n", ",").split(",") if part.strip()
        ]
    else:
        raise ConfigError(f"{source}: give field=path pairs, e.g. input=question,expected=answer")
    seen: set[str] = set()
    for name, path in pairs:
        if name not in ROW_FIELDS:
            raise ConfigError(
                f"{source}: {name!r} is not a row field; map one of {', '.join(ROW_FIELDS)}"
            )
        if name in seen:
            raise ConfigError(f"{source}: {name!r} is mapped twice")
        if not path or any(not part for part in path.split(".")):
            raise ConfigError(f"{source}: {name}={path!r} is not a dotted path like answers.text")
        seen.add(name)
    return tuple(pairs)


def _pair(text: str, source: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep:
        raise ConfigError(f"{source}: {text.strip()!r} is not field=path, e.g. input=question")
    return name.strip(), path.strip()
