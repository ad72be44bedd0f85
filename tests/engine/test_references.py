"""Scorer references: what a dataset file may name, import paths, and spec text that must not parse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pytest_datasetrun import scorers
from pytest_datasetrun.engine.registry import Registry
from pytest_datasetrun.engine.spec import SpecList, parse_spec
from pytest_datasetrun.errors import ConfigError

SCORERS_DIR = Path(scorers.__file__).parent


def test_untrusted_specs_may_not_name_import_paths():
    registry = Registry.discover([], [], [])
    with pytest.raises(ConfigError, match=r"qa.jsonl, row 1, field 'scorers': scorer 'os:system'"):
        registry.resolve_row_scorers([], ["os:system"], "qa.jsonl, row 1, field 'scorers'")
    with pytest.raises(ConfigError, match="is an import path"):
        registry.resolve_scorers([SpecList("qa.json, field 'scorers'", ["os:getcwd"], False)])


def test_trusted_specs_import_and_built_ins_need_no_trust():
    registry = Registry.discover([], [], [])
    chosen = registry.resolve_scorers(
        [("--scorer", ["os.path:isabs"]), SpecList("qa.json", ["exact_match>=1"], False)]
    )
    assert [s.key for s in chosen] == ["isabs", "exact_match"]
    rows = registry.resolve_row_scorers([], ["os.path:isabs"], "row", trusted=True)
    assert rows[0].fn.__name__ == "isabs"


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        ({"scorer": "llm_judge", "params": {"model": "os:system"}}, False),
        ({"scorer": "llm_judge", "params": {"model": "openai:gpt-4o-mini"}}, True),
        ({"scorer": "llm_judge", "params": {"rubric": "kind?"}}, True),
        ("semantic_similarity(embedder='os:system')", False),
        ({"scorer": "json_schema", "params": {"schema": "../secrets.json"}}, False),
        ({"scorer": "json_schema", "params": {"schema": "/etc/passwd"}}, False),
        ({"scorer": "json_schema", "params": {"schema": "schemas/answer.json"}}, True),
        ({"scorer": "json_schema", "params": {"schema": {"type": "object"}}}, True),
    ],
)
def test_untrusted_params_may_not_name_code_or_outside_files(spec, allowed):
    registry = Registry.discover([], [], [])
    if allowed:
        registry.resolve_row_scorers([], [spec], "row 1")
        return
    with pytest.raises(ConfigError, match="row 1: scorer '.*': .* dataset file may not"):
        registry.resolve_row_scorers([], [spec], "row 1")
    registry.resolve_row_scorers([], [spec], "row 1", trusted=True)


def _resolve_callable_params() -> set[tuple[str, str]]:
    """(module, param) for every built-in scorer parameter that resolve_callable imports."""
    found = set()
    for path in SCORERS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "resolve_callable"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.add((path.stem, node.args[1].value))
    return found


def test_every_parameter_that_imports_code_is_guarded():
    """A new built-in that imports a parameter must declare it, or datasets could name code."""
    params = _resolve_callable_params()
    assert {param for _, param in params} >= {"model", "embedder"}
    for module, param in params:
        guarded = [
            fn
            for fn in scorers.BUILTINS.values()
            if fn.__module__.endswith(module)
            and getattr(fn, "__datasetrun_data_check__", None)
            and fn.__datasetrun_data_check__({param: "os:system"})
        ]
        assert guarded, f"no built-in in scorers/{module}.py guards its {param!r} parameter"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('contains(substring="x"))', "unbalanced ')'"),
        ('contains(substring="x")) >= 1', "unbalanced ')'"),
        ('contains(substring="x)', 'an unclosed " quote'),
        ("contains(substring=[1, 2)", "an unclosed bracket"),
        ('contains(substring="x" y)', "is not a valid JSON or Python value"),
        ("contains(substring='it''s)", "an unclosed ' quote"),
    ],
)
def test_spec_with_trailing_garbage_is_rejected(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_spec(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ('contains(substring="a(b)")', {"substring": "a(b)"}),
        ("contains(substring='it\\'s')", {"substring": "it's"}),
        ('contains(substring="say \\"hi\\"")', {"substring": 'say "hi"'}),
        ("contains(substring=plain words)", {"substring": "plain words"}),
        ("regex(pattern='[a-z]+', flags=[\"i\"])", {"pattern": "[a-z]+", "flags": ["i"]}),
    ],
)
def test_valid_specs_still_parse(text, params):
    assert parse_spec(text).params == params


def test_scorer_object_alias_must_be_a_string():
    with pytest.raises(ConfigError, match="'as' of scorer 'contains' must be a non-empty string"):
        parse_spec({"scorer": "contains", "as": 3}, source="row 1")


def test_run_dataset_applies_the_same_rule_to_dataset_files(tmp_path):
    from pytest_datasetrun import run_dataset

    path = tmp_path / "qa.jsonl"
    path.write_text('{"id": "r1", "input": "/abs", "scorers": ["os.path:isabs"]}\n')
    with pytest.raises(
        ConfigError, match=r"row 1, field 'scorers': scorer 'os.path:isabs' is an import"
    ):
        run_dataset(path, lambda value: value)
    record = run_dataset(path, lambda value: value, trust_dataset_imports=True)
    assert record.items[0].scores[0].value == 1.0
