"""Unit tests of number extraction and the numeric_close scorer."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from pytest_datasetrun.scorers import numeric_close
from pytest_datasetrun.scorers.numbers import find_numbers, is_close, parse_number


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("1,234.5", [1234.5]),
        ("$1,000,000 in 2024", [1_000_000, 2024]),
        ("-3 and +4 and \u22125.5", [-3, 4, -5.5]),
        ("from 10-20 items", [10, 20]),
        ("x -5 y", [-5]),
        ("the answer is 42.", [42]),
        (".5 or -.25", [0.5, -0.25]),
        ("2e-3 and 1E6", [0.002, 1_000_000]),
        ("12% then 7 %", [12, 7]),
        ("1,2345", [1, 2345]),
        ("1,2,3", [1, 2, 3]),
        ("v1.2.3", [1.2]),
        ("\u0663\u0664 apples", [34]),  # Arabic-Indic digits
        ("no numbers here", []),
        ("", []),
    ],
)
def test_find_numbers(text, numbers):
    assert find_numbers(text) == pytest.approx(numbers)


def test_find_numbers_percent_as_fraction():
    assert find_numbers("12% and 3", percent="fraction") == pytest.approx([0.12, 3])


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (3, 3.0),
        (Decimal("2.5"), 2.5),
        (Fraction(1, 4), 0.25),
        (" -1,234.5 \n", -1234.5),
        ({"answer": "7"}, 7.0),
    ],
)
def test_parse_number(value, number):
    assert parse_number(value) == number


@pytest.mark.parametrize("value", ["42 apples", "", None, True, "1.2.3"])
def test_parse_number_rejects_anything_but_one_number(value):
    with pytest.raises(ValueError, match="not a number"):
        parse_number(value)


@pytest.mark.parametrize(
    ("output", "expected", "params", "value"),
    [
        (42, 42, {}, 1.0),
        (0.1 + 0.2, 0.3, {}, 1.0),
        ("42", 42, {}, 1.0),
        ("1,234.5", "1234.5", {}, 1.0),
        (41.9, 42, {}, 0.0),
        (41.9, 42, {"abs_tol": 0.1}, 1.0),
        (41, 42, {"rel_tol": 0.05}, 1.0),
        (39, 42, {"rel_tol": 0.05}, 0.0),
        ("Step 1: 20. Step 2: so the answer is 42.", 42, {"extract": True}, 1.0),
        ("Step 1: 20. Step 2: so the answer is 42.", 42, {"extract": True, "pick": "first"}, 0.0),
        ("It fell by -3.5%", -3.5, {"extract": True}, 1.0),
        ("It fell by -3.5%", -0.035, {"extract": True, "percent": "fraction"}, 1.0),
        ("45%", 0.45, {"percent": "fraction"}, 1.0),
        (7, [5, 7], {}, 1.0),
        (float("nan"), 1, {}, 0.0),
        (float("inf"), float("inf"), {}, 1.0),
        (-0.0, 0, {}, 1.0),
    ],
)
def test_numeric_close(output, expected, params, value):
    assert numeric_close(output, expected, **params).value == value


def test_numeric_close_reason_and_metadata():
    score = numeric_close("about 41.5", 42, extract=True, abs_tol=0.1)
    assert score.reason == "41.5 != 42 (|diff| 0.5)"
    assert score.metadata == {"value": 41.5, "expected": 42.0, "diff": 0.5}


def test_numeric_close_metadata_stays_json_safe_for_nan():
    metadata = numeric_close(math.nan, 1).metadata
    assert metadata["value"] == "nan"


@pytest.mark.parametrize(
    ("output", "params", "message"),
    [
        ("I don't know", {"extract": True}, "no number in the output"),
        ("about 42", {}, "not a number"),
        (None, {}, "not a number"),
        (True, {}, "not a number"),
        ("x" * 100_000, {"extract": True}, "no number in the output 'xxx"),
    ],
)
def test_numeric_close_errors_when_the_output_has_no_number(output, params, message):
    with pytest.raises(ValueError, match=message):
        numeric_close(output, 42, **params)


def test_numeric_close_can_fail_instead_of_error():
    score = numeric_close("I don't know", 42, extract=True, on_missing="fail")
    assert (score.value, score.reason) == (0.0, 'no number in the output "I don\'t know"')


@pytest.mark.parametrize(
    ("expected", "params", "message"),
    [
        (None, {}, "no 'expected'"),
        ("forty-two", {}, "expected value is not a number"),
        (42, {"pick": "middle"}, "pick"),
        (42, {"percent": "ratio"}, "percent"),
        (42, {"on_missing": "zero"}, "on_missing"),
    ],
)
def test_numeric_close_configuration_errors(expected, params, message):
    with pytest.raises(ValueError, match=message):
        numeric_close("42", expected, **params)


def test_numeric_close_extracts_from_100k_chars_quickly():
    text = "word " * 20_000 + "answer 7"
    assert numeric_close(text, 7, extract=True).value == 1.0


@pytest.mark.parametrize(
    ("a", "b", "params", "close"),
    [
        (41.9, 42, {"abs_tol": 0.1, "rel_tol": 0.0}, False),  # float rounding: 0.10000000000000142
        (41.9, 42, {"abs_tol": 0.1, "rel_tol": 1e-9}, True),
        (100, 104, {"abs_tol": 0.0, "rel_tol": 0.05}, True),
        (100, 106, {"abs_tol": 0.0, "rel_tol": 0.05}, False),
        (math.inf, 1e308, {"abs_tol": math.inf, "rel_tol": 0.0}, False),
        (-math.inf, -math.inf, {"abs_tol": 0.0, "rel_tol": 0.0}, True),
        (math.nan, math.nan, {"abs_tol": 1.0, "rel_tol": 1.0}, False),
    ],
)
def test_is_close_adds_the_tolerances(a, b, params, close):
    assert is_close(a, b, **params) is close
