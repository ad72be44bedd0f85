"""Rows in other tools' shapes, turned into dataset rows: detected from the first row, or named.

Shapes: OpenAI evals samples (``input`` chat messages, ``ideal``), promptfoo tests (``vars``,
``assert``), deepeval goldens (``expected_output``, ``context``, ``retrieval_context``) and
LangSmith examples (``inputs``, ``outputs``). Each converter only moves data: nothing a file
holds is imported or run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pytest_datasetrun.data.parsed import HEADER_KEYS, Parsed, RawRow, check_header
from pytest_datasetrun.errors import DatasetError

__all__ = ("RowProblem", "detect", "document_rows", "CONVERTERS")

# Keys only deepeval writes (save_as writes them all, null when unset): a plain CSV with a
# ``context`` or ``name`` column stays a native file whose extra columns go to metadata.
_DEEPEVAL_KEYS = frozenset(
    {"actual_output", "retrieval_context", "tools_called", "expected_tools"}
    | {"additional_metadata", "custom_column_key_values", "input_token_count"}
)


class RowProblem(ValueError):
    """A row that does not fit its shape; ``field`` names the part."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def detect(row: Any) -> str:
    """The shape of a row, from its keys; ``native`` when it is none of the importers'."""
    if not isinstance(row, dict):
        return "native"
    keys = set(row)
    if {"inputs", "outputs"} <= keys or ("inputs" in keys and "input" not in keys):
        return "langsmith"
    if ("vars" in keys and "input" not in keys) or any(
        str(k).startswith("__expected") for k in keys
    ):
        return "promptfoo"
    if "expected" in keys:  # the native name: whatever else the row has is native too
        return "native"
    if "ideal" in keys and "input" in keys:
        return "openai-evals"
    if "input" in keys and keys & _DEEPEVAL_KEYS:
        return "deepeval"
    return "native"


def document_rows(parsed: Parsed, shown: str) -> Parsed:
    """Rows of a whole tool document: promptfoo's config (``tests``), or one LangSmith example."""
    document = parsed.document
    if document is None:
        return parsed
    if "tests" in document and isinstance(document["tests"], list):
        description = document.get("description")
        rows = [RawRow(_test(test, shown, n), None) for n, test in enumerate(document["tests"], 1)]
        return Parsed(rows, description=None if description is None else str(description))
    if detect(document) != "native" and not set(document) & set(HEADER_KEYS):
        return Parsed([RawRow(document, 1)])
    check_header(document, shown)
    return parsed


def _test(test: Any, shown: str, row: int) -> Any:
    if isinstance(test, str):
        raise DatasetError(
            shown,
            f"the test is a reference ({test!r}), which is not followed; pass that tests file "
            "itself with --dataset",
            row=row,
            field="tests",
        )
    return test


def _rest(row: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """Keys not taken by a converter, for ``metadata`` (``None`` values dropped)."""
    rest = {key: value for key, value in row.items() if key not in used and value is not None}
    inner = rest.pop("metadata", None)
    if isinstance(inner, dict):
        rest = {**rest, **inner}
    elif inner is not None:
        rest["metadata"] = inner
    return rest


def openai_evals(row: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    if "input" not in row:
        raise RowProblem("an OpenAI evals sample needs 'input'", "input")
    out: dict[str, Any] = {"input": row["input"]}
    if "ideal" in row:
        out["expected"] = row["ideal"]
    return _with_metadata(out, _rest(row, {"input", "ideal"}))


def deepeval(row: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    if "input" not in row:
        raise RowProblem("a deepeval golden needs 'input'", "input")
    out: dict[str, Any] = {"input": row["input"]}
    if row.get("expected_output") not in (None, ""):
        out["expected"] = row["expected_output"]
    rest = _rest(row, {"input", "expected_output", "additional_metadata"})
    rest = {key: value for key, value in rest.items() if value != ""}
    for key in ("context", "retrieval_context"):
        if isinstance(rest.get(key), str):
            rest[key] = rest[key].split("|")  # deepeval's CSV and JSON Lines join lists with |
    extra = _json_object(row.get("additional_metadata"), "additional_metadata")
    return _with_metadata(out, {**rest, **extra})


def langsmith(row: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    if "inputs" not in row:
        raise RowProblem("a LangSmith example needs 'inputs'", "inputs")
    out: dict[str, Any] = {"input": row["inputs"]}
    if row.get("outputs") is not None:
        out["expected"] = row["outputs"]
    if isinstance(row.get("id"), (str, int)) and not isinstance(row.get("id"), bool):
        out["id"] = row["id"]
    return _with_metadata(out, _rest(row, {"inputs", "outputs", "id"}))


def _json_object(value: Any, field: str) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise RowProblem(f"is not a JSON object: {exc.msg}", field) from None
    if not isinstance(value, dict):
        raise RowProblem(f"must be an object, got {type(value).__name__}", field)
    return value


def _with_metadata(out: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    if metadata:
        out["metadata"] = metadata
    return out


def _promptfoo(row: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    from pytest_datasetrun.data.promptfoo import convert, from_csv

    if "vars" not in row:  # a CSV test file: columns are vars, __expectedN are assertions
        row = from_csv(row)
    return convert(row, notes)


# Each converter takes a row and a list it may append notes to (what it could not carry over).
CONVERTERS: dict[str, Callable[[dict[str, Any], list[str]], dict[str, Any]]] = {
    "openai-evals": openai_evals,
    "promptfoo": _promptfoo,
    "deepeval": deepeval,
    "langsmith": langsmith,
}
