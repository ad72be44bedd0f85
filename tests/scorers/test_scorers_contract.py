"""The scorer contract, checked on every built-in: signature shape, docs, edge-case outputs."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from dataclasses import dataclass

import pytest

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.score import Score, coerce_score
from pytest_datasetrun.scorers import BUILTINS, check_requirements, fuzzy_ratio, to_text
from pytest_datasetrun.scorers._util import resolve_callable

CONTEXT = {"expected", "input", "item", "metadata", "duration"}

# The params each scorer needs to run at all (everything else has a default).
PARAMS = {
    "length": {"max": 50},
    "regex": {"pattern": "alpha"},
    "json_schema": {"schema": {"type": "object"}},
    "latency": {"budget_s": 1.0},
    "semantic_similarity": {"embedder": lambda texts: [[1.0, float(len(t) % 3)] for t in texts]},
    "llm_judge": {"model": lambda prompt: '{"score": 0.5, "reason": "ok"}'},
}
OUTPUTS = {
    "empty": "",
    "none": None,
    "unicode": "Ünïcödé 日本語 🙂 — «ok»",
    "long": "lorem ipsum 42 " * 6_700,  # ~100k chars
    "dict": {"answer": "alpha"},
}


def _call(name, output):
    fn = BUILTINS[name]
    context = {
        "expected": ["a", "b"] if name != "numeric_close" else 42,
        "input": "q",
        "duration": 0.5,
    }
    if name == "tool_calls":
        context["expected"] = ["search"]
    wanted = {
        key: value for key, value in context.items() if key in inspect.signature(fn).parameters
    }
    result = fn(output, **wanted, **PARAMS.get(name, {}))
    return asyncio.run(result) if inspect.iscoroutine(result) else result


@pytest.mark.parametrize("name", list(BUILTINS))
def test_signature_follows_the_contract(name):
    parameters = list(inspect.signature(BUILTINS[name]).parameters.values())
    assert parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    for parameter in parameters[1:]:
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            assert parameter.name not in CONTEXT
            assert parameter.default is not inspect.Parameter.empty, parameter.name
        else:
            assert parameter.name in CONTEXT, parameter.name


@pytest.mark.parametrize("name", list(BUILTINS))
def test_docstring_summary_and_params_are_documented(name):
    fn = BUILTINS[name]
    doc = inspect.getdoc(fn)
    assert doc and doc.splitlines()[0].endswith("."), name
    for parameter in list(inspect.signature(fn).parameters)[1:]:
        assert f":param {parameter}:" in doc, f"{name}: {parameter}"


@pytest.mark.parametrize("name", list(BUILTINS))
def test_documented_in_docs_scorers_md(name):
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "scorers.md").read_text(encoding="utf-8")
    assert f"### `{name}`" in docs


@pytest.mark.parametrize("kind", list(OUTPUTS))
@pytest.mark.parametrize("name", list(BUILTINS))
def test_edge_case_outputs_score_or_error_cleanly(name, kind):
    try:
        result = _call(name, OUTPUTS[kind])
    except (ValueError, TypeError) as exc:
        assert "scorer" in str(exc) or "number" in str(exc), exc
        return
    score = coerce_score(result)
    assert isinstance(result, Score) and score.reason
    json.dumps(score.metadata)


def test_only_the_judge_is_async():
    assert [n for n, fn in BUILTINS.items() if inspect.iscoroutinefunction(fn)] == ["llm_judge"]


@dataclass
class Message:
    content: str


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("x", "x"),
        (None, ""),
        (b"caf\xc3\xa9", "café"),
        ({"text": "t", "answer": "a"}, "t"),
        ({"answer": {"content": "nested"}}, "nested"),
        ({"other": 1}, "{'other': 1}"),
        (Message("hi"), "hi"),
        (42, "42"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_to_text_rule(value, text):
    assert to_text(value) == text


def test_check_requirements_names_the_extra(monkeypatch):
    check_requirements(fuzzy_ratio)
    check_requirements(BUILTINS["exact_match"])
    monkeypatch.setitem(sys.modules, "rapidfuzz", None)
    message = r"scorer 'fuzzy_ratio' needs rapidfuzz: pip install 'pytest-datasetrun\[text\]'"
    with pytest.raises(ConfigError, match=message):
        check_requirements(fuzzy_ratio)
    with pytest.raises(ConfigError, match=message):
        fuzzy_ratio("a", "a")


def test_check_requirements_json_schema(monkeypatch):
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    with pytest.raises(ConfigError, match=r"pytest-datasetrun\[structure\]"):
        check_requirements(BUILTINS["json_schema"])


def test_resolve_callable():
    assert resolve_callable("json:dumps", "fn", "s") is json.dumps
    assert resolve_callable("json:JSONDecoder.decode", "fn", "s") is json.JSONDecoder.decode
    with pytest.raises(ConfigError, match="not callable"):
        resolve_callable("json:__name__", "fn", "s")
    with pytest.raises(ConfigError, match="cannot import"):
        resolve_callable("no_such_module_xyz:f", "fn", "s")
