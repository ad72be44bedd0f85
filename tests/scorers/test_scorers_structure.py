"""Unit tests of the JSON scorers: validity, key-by-key matching, schema validation."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pytest_datasetrun.scorers import json_match, json_schema, json_valid
from pytest_datasetrun.scorers._json import strip_fences
from pytest_datasetrun.scorers.jsondiff import json_equal

PERSON = {"name": "Ann", "age": 30, "email": "ann@example.org"}
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


@pytest.mark.parametrize(
    ("output", "params", "value"),
    [
        ('{"a": 1}', {}, 1.0),
        ("[1, 2]", {}, 1.0),
        ('"text"', {}, 1.0),
        ('```json\n{"a": 1}\n```', {}, 1.0),
        ('```json\n{"a": 1}\n```', {"fences": False}, 0.0),
        ("{'a': 1}", {}, 0.0),
        ("", {}, 0.0),
        (None, {}, 0.0),
        ({"a": 1}, {}, 1.0),
        ([1], {"require": "object"}, 0.0),
        ("[1]", {"require": "array"}, 1.0),
        ('{"ключ": "значение"}', {"require": "object"}, 1.0),
        ({1, 2}, {}, 0.0),
    ],
)
def test_json_valid(output, params, value):
    assert json_valid(output, **params).value == value


def test_json_valid_reason_gives_the_parse_error():
    assert json_valid('{"a": 1').reason.startswith("not JSON: Expecting ',' delimiter")


def test_json_valid_on_100k_chars():
    assert json_valid(json.dumps({"text": "x" * 100_000})).value == 1.0


def test_strip_fences_only_unwraps_a_whole_fence():
    assert strip_fences("```\n[1]\n```") == "[1]"
    assert strip_fences("see ```[1]```") == "see ```[1]```"


@pytest.mark.parametrize(
    ("value", "reference", "subset", "equal"),
    [
        (1, 1.0, False, True),
        (True, 1, False, False),
        (0, False, False, False),
        ({"a": [1, {"b": 2, "c": 3}]}, {"a": [1, {"b": 2}]}, False, False),
        ({"a": [1, {"b": 2, "c": 3}]}, {"a": [1, {"b": 2}]}, True, True),
        ((1, 2), [1, 2], False, True),
        ([1, 2], [2, 1], False, False),
        (None, None, False, True),
        ("1", 1, False, False),
    ],
)
def test_json_equal(value, reference, subset, equal):
    assert json_equal(value, reference, subset=subset) is equal


def test_json_match_exact_reports_each_key():
    score = json_match({"name": "Ann", "age": 31, "x": 1}, PERSON)
    assert score.value == 0.0
    assert score.metadata["keys"] == {
        "$.name": "match",
        "$.age": "mismatch",
        "$.email": "missing",
        "$.x": "extra",
    }
    assert score.reason == "1/4 keys match; $.age: 31 != 30; missing $.email; extra $.x"


@pytest.mark.parametrize(
    ("output", "mode", "value"),
    [
        (PERSON, "exact", 1.0),
        (json.dumps(PERSON), "exact", 1.0),
        ({**PERSON, "extra": 1}, "exact", 0.0),
        ({**PERSON, "extra": 1}, "subset", 1.0),
        ({**PERSON, "extra": 1}, "partial", 0.75),
        ({"name": "Ann", "age": 31}, "subset", 1 / 3),
        ({"name": "Ann", "age": 31}, "partial", 1 / 3),
        ({}, "subset", 0.0),
        ([1, 2, 3], "partial", 2 / 3),
    ],
)
def test_json_match_modes(output, mode, value):
    expected = [1, 2, 4] if isinstance(output, list) else PERSON
    assert json_match(output, expected, mode=mode).value == pytest.approx(value)


def test_json_match_subset_applies_to_nested_objects():
    output = {"user": {"name": "Ann", "id": 7}, "ok": True}
    assert json_match(output, {"user": {"name": "Ann"}}, mode="subset").value == 1.0
    assert json_match(output, {"user": {"name": "Ann"}, "ok": True}).value == 0.0


def test_json_match_ignore_keys_at_any_depth():
    output = {"id": "x1", "user": {"name": "Ann", "created": "2024-01-01"}}
    expected = {"id": "x2", "user": {"name": "Ann", "created": "2020-01-01"}}
    assert json_match(output, expected).value == 0.0
    assert json_match(output, expected, ignore_keys=["id", "created"]).value == 1.0


def test_json_match_scalars_and_models():
    @dataclasses.dataclass
    class Answer:
        city: str

    assert json_match(Answer("Paris"), {"city": "Paris"}).value == 1.0
    assert json_match("42", 42).value == 1.0
    score = json_match('"a"', "[1]")
    assert (score.value, score.metadata["keys"]) == (0.0, {"$": "mismatch"})


def test_json_match_bad_output_scores_zero_but_bad_expected_errors():
    assert json_match("not json", PERSON).value == 0.0
    assert json_match(None, PERSON).value == 0.0
    with pytest.raises(ValueError, match="expected value is not JSON"):
        json_match("{}", "{oops")
    with pytest.raises(ValueError, match="no 'expected'"):
        json_match("{}", None)
    with pytest.raises(ValueError, match="mode"):
        json_match("{}", {}, mode="fuzzy")


def test_json_schema_valid_and_invalid():
    assert json_schema('{"name": "Ann", "age": 3}', schema=SCHEMA).value == 1.0
    score = json_schema({"age": -1, "name": 5}, schema=SCHEMA)
    assert score.value == 0.0
    assert score.metadata["error_count"] == 2
    assert (
        score.reason == "$.age: -1 is less than the minimum of 0; $.name: 5 is not of type 'string'"
    )


def test_json_schema_lists_at_most_three_errors_in_the_reason():
    schema = {"type": "object", "required": ["a", "b", "c", "d"]}
    score = json_schema({}, schema=schema)
    assert score.reason.endswith("(+1 more)")
    assert len(score.metadata["errors"]) == 4


def test_json_schema_from_a_file(tmp_path, monkeypatch):
    (tmp_path / "person.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert json_schema({"name": "Ann", "age": 1}, schema="person.schema.json").value == 1.0


def test_json_schema_formats_are_opt_in():
    schema = {"type": "string", "format": "date"}
    assert json_schema('"not a date"', schema=schema).value == 1.0
    assert json_schema('"not a date"', schema=schema, check_formats=True).value == 0.0


def test_json_schema_unparsable_output_scores_zero():
    assert json_schema("nope", schema=SCHEMA).reason.startswith("output is not JSON")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (None, "schema must be"),
        ("missing.json", "cannot read schema"),
        ({"type": "no-such-type"}, "invalid schema"),
    ],
)
def test_json_schema_configuration_errors(schema, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        json_schema("{}", schema=schema)


def test_json_schema_declares_its_extra():
    assert json_schema.__datasetrun_requires__ == ("jsonschema", "structure")
