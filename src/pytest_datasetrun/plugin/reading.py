"""Options for how dataset files are read (issue 12): field mapping, format, encoding, JSON cells."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ("add_reading_options", "reading_settings")

# How dataset files are read (issue 12): field mapping, format or importer, encoding, JSON cells.
_READING = (
    (
        "fields",
        "FIELD=PATH,...",
        "map row fields to the file's own columns by dotted paths, e.g. "
        "input=question,expected=answers.text; unmapped columns go to metadata.",
    ),
    (
        "format",
        "NAME",
        "read every dataset as this file kind (json, jsonl, csv, yaml, parquet, "
        "arrow, hf-disk) or importer shape (native, openai-evals, promptfoo, deepeval, langsmith).",
    ),
    ("encoding", "CODEC", "the text encoding of dataset files (default utf-8), e.g. cp1252."),
    ("json_cells", "COLUMNS", "CSV columns whose cells hold JSON, e.g. input,expected."),
)


def add_reading_options(add: Any, ini: Any) -> None:
    for name, metavar, text in _READING:
        flag = "--dataset-" + name.replace("_", "-")
        add(flag, dest=f"dataset_{name}", default=None, metavar=metavar, help=text)
        ini(f"datasetrun_dataset_{name}", text, default="")


def reading_settings(picked: Any) -> Any:
    from pytest_datasetrun.data.settings import LoadSettings
    from pytest_datasetrun.errors import ConfigError

    values: dict[str, str] = {}
    message_names: dict[str, str] = {}
    for name, _, _ in _READING:
        value, label = picked(f"dataset_{name}", f"datasetrun_dataset_{name}")
        values[name] = str(value or "")
        message_names["--dataset-" + name.replace("_", "-")] = label
    try:
        return LoadSettings.from_options(**values)
    except ConfigError as exc:
        flag, _, rest = str(exc).partition(":")  # named the way the user gave it
        raise pytest.UsageError(f"datasetrun: {message_names.get(flag, flag)}:{rest}") from None
