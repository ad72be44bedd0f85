"""Unit tests of the text scorers: equality, substrings, regex, length."""

from __future__ import annotations

import pytest

from pytest_datasetrun.score import Score
from pytest_datasetrun.scorers import (
    BUILTINS,
    contains,
    contains_all,
    contains_any,
    exact_match,
    excludes,
    length,
    regex,
    starts_with,
)

LONG = "lorem ipsum " * 8334  # ~100k chars


def test_builtins_are_keyed_by_function_name_in_stable_order():
    assert list(BUILTINS)[:3] == ["exact_match", "contains", "contains_all"]
    assert all(name == fn.__name__ for name, fn in BUILTINS.items())


def test_builtins_have_a_one_line_summary():
    for fn in BUILTINS.values():
        summary = (fn.__doc__ or "").strip().splitlines()[0]
        assert summary.endswith(")") or summary.endswith("."), fn.__name__


@pytest.mark.parametrize(
    ("output", "expected", "params", "value"),
    [
        ("Paris", "Paris", {}, 1.0),
        ("Paris\n", "Paris", {}, 1.0),
        ("Paris\n", "Paris", {"strip": False}, 0.0),
        ("paris", "Paris", {}, 0.0),
        ("paris", "Paris", {"ignore_case": True}, 1.0),
        ("STRASSE", "straße", {"ignore_case": True}, 1.0),
        ("New   York", "New York", {}, 0.0),
        ("New \t York", "New York", {"ignore_whitespace": True}, 1.0),
        ("Paris!", "Paris", {}, 0.0),
        ("«Paris»!", "Paris", {"ignore_punctuation": True}, 1.0),
        ("Lyon", ["Paris", "Lyon"], {}, 1.0),
        ("Nice", ["Paris", "Lyon"], {}, 0.0),
        ({"answer": "Paris"}, "Paris", {}, 1.0),
        (None, "", {}, 1.0),
        (None, "x", {}, 0.0),
        (42, 42, {}, 1.0),
        ("", "", {}, 1.0),
        (LONG, LONG, {}, 1.0),
    ],
)
def test_exact_match(output, expected, params, value):
    score = exact_match(output, expected, **params)
    assert isinstance(score, Score)
    assert score.value == value


def test_exact_match_without_expected_raises():
    with pytest.raises(ValueError, match="no 'expected'"):
        exact_match("Paris", None)


def test_exact_match_reason_names_both_sides():
    assert exact_match("Lyon", "Paris").reason == "'Lyon' != 'Paris'"


@pytest.mark.parametrize(
    ("output", "expected", "params", "value"),
    [
        ("we refund you", "refund", {}, 1.0),
        ("We REFUND you", "refund", {}, 0.0),
        ("We REFUND you", "refund", {"ignore_case": True}, 1.0),
        ("no", None, {"substring": "no"}, 1.0),
        ("yes", "yes", {"substring": "no"}, 0.0),
        (None, "x", {}, 0.0),
        ("anything", "", {}, 1.0),
        ("日本語のテキスト", "テキスト", {}, 1.0),
        (LONG + "needle", "needle", {}, 1.0),
    ],
)
def test_contains(output, expected, params, value):
    assert contains(output, expected, **params).value == value


def test_contains_reason_names_missing_substring():
    assert contains("hello", "refund").reason == "missing 'refund'"


def test_contains_needs_a_substring():
    with pytest.raises(ValueError, match="substring"):
        contains("hello")


def test_contains_a_list_expected_means_alternatives():
    assert contains("we refund", ["refund", "reimburse"]).value == 1.0
    score = contains("no", ["refund", "reimburse"])
    assert (score.value, score.reason) == (0.0, "missing 'refund', 'reimburse'")


@pytest.mark.parametrize(
    ("output", "params", "value"),
    [
        ("order 1234", {"pattern": r"\d{4}"}, 1.0),
        ("order 1234", {"pattern": r"\d{4}", "mode": "match"}, 0.0),
        ("order 1234", {"pattern": r"order \d+", "mode": "full"}, 1.0),
        ("order 1234 ok", {"pattern": r"order \d+", "mode": "full"}, 0.0),
        ("ORDER", {"pattern": "order"}, 0.0),
        ("ORDER", {"pattern": "order", "ignore_case": True}, 1.0),
        ("a\nb", {"pattern": "^b$"}, 0.0),
        ("a\nb", {"pattern": "^b$", "multiline": True}, 1.0),
        ("a\nb", {"pattern": "a.b"}, 0.0),
        ("a\nb", {"pattern": "a.b", "dotall": True}, 1.0),
        (None, {"pattern": "^$", "mode": "full"}, 1.0),
        ("café", {"pattern": r"caf\w"}, 1.0),
    ],
)
def test_regex(output, params, value):
    assert regex(output, **params).value == value


def test_regex_uses_expected_as_pattern():
    assert regex("id: 7", r"id: \d").value == 1.0


def test_regex_a_list_of_patterns_means_alternatives():
    assert regex("id: 7", [r"^\w+$", r"id: \d"]).value == 1.0
    assert regex("id: x", [r"^\d$", r"id: \d"]).reason == r"no search for /^\d$/ or /id: \d/"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "pattern"),
        ({"pattern": "("}, "invalid pattern"),
        ({"pattern": "a", "mode": "prefix"}, "mode must be"),
    ],
)
def test_regex_errors(params, message):
    with pytest.raises(ValueError, match=message):
        regex("abc", **params)


def test_contains_all_is_all_or_nothing_and_lists_missing():
    score = contains_all("refund within 14 days", substrings=["refund", "days", "receipt"])
    assert score.value == 0.0
    assert score.reason == "missing 'receipt'"
    assert score.metadata == {"found": ["refund", "days"], "missing": ["receipt"]}
    assert contains_all("a b c", ["a", "c"]).value == 1.0


def test_contains_all_partial_scores_the_share_found():
    assert contains_all("a b", ["a", "b", "x", "y"], partial=True).value == 0.5


def test_contains_any():
    assert contains_any("tea please", ["coffee", "tea"]).value == 1.0
    assert contains_any("water", ["coffee", "tea"]).value == 0.0
    assert contains_any("TEA", substrings=["tea"], ignore_case=True).value == 1.0


def test_excludes_flags_forbidden_strings():
    score = excludes("my password is hunter2", ["hunter2", "secret"])
    assert score.value == 0.0
    assert score.metadata == {"found": ["hunter2"]}
    assert excludes(None, substrings=["x"]).value == 1.0


def test_starts_with():
    assert starts_with("  Yes, indeed", prefix="Yes").value == 1.0
    assert starts_with("  Yes, indeed", prefix="Yes", strip=False).value == 0.0
    assert starts_with("yes", ["No", "Yes"], ignore_case=True).value == 1.0
    assert starts_with("Maybe", "Yes").value == 0.0


@pytest.mark.parametrize(
    ("output", "params", "value", "reason"),
    [
        ("hello", {"max": 5}, 1.0, "5 chars: at most 5"),
        ("hello!", {"max": 5}, 0.0, "6 chars: too long, at most 5"),
        ("hi", {"min": 3, "max": 9}, 0.0, "2 chars: too short, within [3, 9]"),
        ("one two  three", {"min": 3, "unit": "words"}, 1.0, "3 words: at least 3"),
        ("", {"min": 1}, 0.0, "0 chars: too short, at least 1"),
        ("日本語", {"max": 3}, 1.0, "3 chars: at most 3"),
        (LONG, {"max": 100_000}, 0.0, "100008 chars: too long, at most 100000"),
    ],
)
def test_length(output, params, value, reason):
    score = length(output, **params)
    assert (score.value, score.reason) == (value, reason)


def test_length_needs_a_bound_and_a_known_unit():
    with pytest.raises(ValueError, match="min or max"):
        length("x")
    with pytest.raises(ValueError, match="unit"):
        length("x", max=3, unit="tokens")
