"""Hardening: option values, from the command line and from the ini file (issue 11, items 9 and 10).

A bad value is a usage error (exit 4) before anything runs, named the way the user gave it
(``--max-concurrency`` or ``datasetrun_max_concurrency``), without a traceback; no run is stored.
"""

from __future__ import annotations

import pytest
from engine_support import Seed, assert_clean

USAGE = 4


@pytest.fixture
def seeded(project, qa):
    seed = Seed(project)
    qa([{"id": "r1", "input": "x", "expected": "x"}])
    return seed


def ini(project, *lines: str) -> None:
    project.pytester.makeini(
        "\n".join(["[pytest]", "console_output_style = classic", *lines]) + "\n"
    )


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("nan", ["--item-timeout: nan is not a finite number"]),
        ("inf", ["--item-timeout: inf is not a finite number"]),
        ("-inf", ["--item-timeout: -inf is not a finite number"]),
        ("-1", ["--item-timeout: -1.0 is not a positive number of seconds"]),
        ("0", ["--item-timeout: 0.0 is not a positive number of seconds", "no timeout"]),
        ("1e300", ["--item-timeout: 1e+300 is not a positive number of seconds"]),
        ("abc", ["argument --item-timeout: invalid float value: 'abc'"]),
    ],
)
def test_bad_item_timeout_on_the_command_line(project, seeded, value, parts):
    result = project.run("--dataset=qa.jsonl", "--target=echo", f"--item-timeout={value}")
    assert_clean(result, USAGE, *parts)
    seeded.assert_untouched()


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        (
            "datasetrun_item_timeout = nan",
            ["datasetrun_item_timeout: 'nan' is not a finite number"],
        ),
        ("datasetrun_item_timeout = soon", ["datasetrun_item_timeout: 'soon' is not a number"]),
        (
            "datasetrun_item_timeout = -5",
            ["datasetrun_item_timeout: '-5' is not a positive number"],
        ),
        (
            "datasetrun_max_concurrency = many",
            ["datasetrun_max_concurrency: 'many' is not an integer"],
        ),
        ("datasetrun_max_concurrency = 0", ["datasetrun_max_concurrency: '0' is too small"]),
        (
            "datasetrun_max_concurrency = 2.5",
            ["datasetrun_max_concurrency: '2.5' is not an integer"],
        ),
        ("datasetrun_max_retries = -1", ["datasetrun_max_retries: '-1' is too small"]),
        ("datasetrun_repeat = 0", ["datasetrun_repeat: '0' is too small (the minimum is 1)"]),
        (
            "datasetrun_repeat_policy = sometimes",
            ["datasetrun_repeat_policy: 'sometimes' is not all"],
        ),
        ("datasetrun_repeat_policy = rate:nan", ["datasetrun_repeat_policy: 'rate:nan'"]),
        ("datasetrun_scorer_reports = most", ["datasetrun_scorer_reports: 'most' is not one of"]),
        ("datasetrun_significance = 2", ["datasetrun_significance: '2' must be between 0 and 1"]),
        (
            "datasetrun_significance = nan",
            ["datasetrun_significance: 'nan' is not a finite number"],
        ),
        ("datasetrun_fail_under = exact_match", ["datasetrun_fail_under: 'exact_match' is not of"]),
        ("datasetrun_min_pass_rate = most", ["datasetrun_min_pass_rate: 'most' is not a number"]),
        ("datasetrun_max_errors = lots", ["datasetrun_max_errors: 'lots' is not a whole number"]),
        (
            "datasetrun_trust_dataset_imports = maybe",
            ["datasetrun_trust_dataset_imports:", "true or false"],
        ),
    ],
    ids=lambda value: (
        value.split(" =")[0] + "=" + value.split("= ")[-1] if isinstance(value, str) else ""
    ),
)
def test_bad_ini_value_is_named_by_its_ini_key(project, seeded, line, parts):
    ini(project, line)
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    text = assert_clean(result, USAGE, *parts)
    assert "--" not in text.split(":", 2)[1], text
    seeded.assert_untouched()


def test_command_line_value_is_named_by_its_flag_over_the_ini(project, seeded):
    ini(project, "datasetrun_max_concurrency = 4")
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--max-concurrency=0")
    assert_clean(result, USAGE, "--max-concurrency: 0 is too small (the minimum is 1)")
    seeded.assert_untouched()


@pytest.mark.parametrize(
    ("option", "parts"),
    [
        ("--max-concurrency=0", ["--max-concurrency: 0 is too small"]),
        ("--repeat=0", ["--repeat: 0 is too small"]),
        ("--max-retries=-2", ["--max-retries: -2 is too small"]),
        ("--significance=nan", ["--significance: nan is not a finite number"]),
        ("--repeat-policy=rate:1.5", ["--repeat-policy: 'rate:1.5' is not all, majority, any"]),
    ],
)
def test_bad_numbers_on_the_command_line(project, seeded, option, parts):
    result = project.run("--dataset=qa.jsonl", "--target=echo", option)
    assert_clean(result, USAGE, *parts)
    seeded.assert_untouched()


@pytest.mark.parametrize(
    "spec",
    [
        'contains(substring="x"))',
        'contains(substring="x")) >= 1',
        'contains(substring="x)',
        "contains(substring=[1, 2)",
    ],
)
def test_scorer_spec_with_garbage_is_rejected(project, seeded, spec):
    result = project.run("--dataset=qa.jsonl", "--target=echo", f"--scorer={spec}")
    assert_clean(result, USAGE, f"--scorer {spec!r}: ", "in the parameters")
    seeded.assert_untouched()


def test_ini_scorer_spec_with_garbage_is_named_by_its_ini_key(project, seeded):
    ini(project, "datasetrun_scorers =", '    contains(substring="x"))')
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(result, USAGE, "datasetrun_scorers 'contains(substring=\"x\"))': unbalanced ')'")
    seeded.assert_untouched()


def test_row_scorer_spec_with_garbage_names_file_row_and_field(project, seeded, qa):
    qa([{"id": "r1", "input": "x", "scorers": ['contains(substring="x"))']}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert_clean(result, USAGE, "qa.jsonl, line 1, row 1, field 'scorers'", "unbalanced ')'")
    seeded.assert_untouched()
