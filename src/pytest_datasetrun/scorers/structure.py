"""Structure scorers: is the output JSON, does it equal the expected JSON, does it fit a schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_datasetrun.score import Score

from ._json import json_path, parse_json
from ._util import clip, import_optional, path_param, require_expected, requires
from .jsondiff import compare_json

__all__ = ("json_valid", "json_match", "json_schema")

_TYPES = {"object": dict, "array": list}
_MAX_ERRORS = 10


def json_valid(output: Any, *, require: str | None = None, fences: bool = True) -> Score:
    """Output is JSON: text that parses, or an already parsed ``dict``/``list``.

    :param output: the target's output.
    :param require: ``"object"`` or ``"array"`` to also require that top-level type.
    :param fences: accept text wrapped in a Markdown code fence (on by default).
    """
    if require is not None and require not in _TYPES:
        raise ValueError(
            f"scorer 'json_valid': require must be 'object' or 'array', not {require!r}"
        )
    if output is None:
        return Score(0.0, reason="output is None")
    try:
        value = parse_json(output, fences=fences)
    except ValueError as exc:
        return Score(0.0, reason=f"not JSON: {exc}")
    if not isinstance(value, (dict, list, str, int, float, bool)) and value is not None:
        return Score(0.0, reason=f"a {type(value).__name__} is not JSON")
    if require is not None and not isinstance(value, _TYPES[require]):
        return Score(0.0, reason=f"JSON {type(value).__name__}, not an {require}")
    return Score(1.0, reason=f"valid JSON {type(value).__name__}")


def json_match(
    output: Any,
    expected: Any,
    *,
    mode: str = "exact",
    ignore_keys: list[str] | None = None,
    fences: bool = True,
) -> Score:
    """Output JSON equals the expected JSON, key by key, with a per-key report in metadata.

    Text on either side is parsed first. The top-level keys (or list indexes) are compared one
    by one, each deeply; the report maps each to ``match``, ``mismatch``, ``missing`` or
    ``extra``. Booleans never equal numbers; ``1`` equals ``1.0``.

    :param output: the target's output (parsed JSON, or JSON text).
    :param expected: the expected JSON value (or JSON text).
    :param mode: ``"exact"`` — 1 if equal, else 0; ``"subset"`` — share of the expected keys
        that match, extra output keys (also in nested objects) ignored; ``"partial"`` — share
        of all keys (expected and extra) that match.
    :param ignore_keys: key names left out at any depth on both sides.
    :param fences: accept text wrapped in a Markdown code fence (on by default).
    :raises ValueError: for an unknown mode, a missing or unparsable expected value.
    """
    if mode not in ("exact", "subset", "partial"):
        raise ValueError(
            f"scorer 'json_match': mode must be exact, subset or partial, not {mode!r}"
        )
    require_expected(expected, "json_match")
    try:
        reference = parse_json(expected, fences=fences)
    except ValueError as exc:
        raise ValueError(f"scorer 'json_match': expected value is not JSON: {exc}") from exc
    try:
        value = parse_json(output, fences=fences)
    except ValueError as exc:
        return Score(0.0, reason=f"output is not JSON: {exc}")
    report = compare_json(value, reference, subset=mode == "subset", ignore=set(ignore_keys or ()))
    return report.score(mode)


def _load_schema(schema: Any) -> dict[str, Any]:
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, (str, Path)):
        path = Path(schema)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"scorer 'json_schema': cannot read schema {str(path)!r}: {exc}"
            ) from exc
        if isinstance(loaded, dict):
            return loaded
    raise ValueError("scorer 'json_schema': schema must be a JSON object or a path to a JSON file")


@requires("jsonschema", "structure")
def json_schema(
    output: Any, *, schema: Any = None, check_formats: bool = False, fences: bool = True
) -> Score:
    """Output JSON validates against a JSON Schema (any draft jsonschema knows; ``$schema`` picks).

    :param output: the target's output (parsed JSON, or JSON text).
    :param schema: the schema as an object, or the path of a JSON file (relative to the
        working directory, i.e. where pytest was started).
    :param check_formats: also check ``format`` keywords (``email``, ``date``...).
    :param fences: accept text wrapped in a Markdown code fence (on by default).
    :raises ValueError: when the schema is missing, unreadable or itself invalid.
    """
    jsonschema = import_optional("jsonschema", "json_schema", "structure")
    resolved = _load_schema(schema)
    validator_class = jsonschema.validators.validator_for(resolved)
    try:
        validator_class.check_schema(resolved)
    except jsonschema.SchemaError as exc:
        raise ValueError(f"scorer 'json_schema': invalid schema: {exc.message}") from exc
    try:
        value = parse_json(output, fences=fences)
    except ValueError as exc:
        return Score(0.0, reason=f"output is not JSON: {exc}")
    checker = validator_class.FORMAT_CHECKER if check_formats else None
    validator = validator_class(resolved, format_checker=checker)
    errors = sorted(validator.iter_errors(value), key=lambda error: list(map(str, error.path)))
    if not errors:
        return Score(1.0, reason="valid against the schema")
    messages = [f"{json_path(tuple(e.absolute_path))}: {e.message}" for e in errors[:_MAX_ERRORS]]
    shown = "; ".join(clip(message, 80) for message in messages[:3])
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return Score(
        0.0, reason=shown + more, metadata={"errors": messages, "error_count": len(errors)}
    )


# A dataset file may name a schema file in the working directory, not anywhere on disk.
json_schema.__datasetrun_data_check__ = path_param("schema")  # type: ignore[attr-defined]
