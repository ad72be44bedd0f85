"""Scorers as isolated sub-assertions: thresholds, errors, invalid values, -x, reports."""

from __future__ import annotations

import pytest

ROWS = [
    {"id": "a", "input": "abc", "expected": "abc"},
    {"id": "b", "input": "x", "expected": "longer"},
]


def test_threshold_fails_item_without_threshold_only_records(project, qa, mode):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match",
        "--scorer=length_ok",
        "--scorer-reports=none",
        *mode,
    )
    result.assert_outcomes(passed=1, failed=1)
    b = project.last_run().items[1]
    scores = {s.id: s for s in b.scores}
    assert scores["exact_match"].value == 0.0 and scores["exact_match"].passed is None
    assert scores["length_ok"].passed is False and scores["length_ok"].threshold == 0.5


def test_errored_and_invalid_scorers_are_errors_not_zeros(project, qa, mode):
    qa(ROWS[:1])
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=boom",
        "--scorer=nan",
        "--scorer=exact_match>=1",
        *mode,
    )
    # one errored row; its errored scorers are shown as subtest reports that do not count
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*boom errored: RuntimeError: scorer exploded*"])
    item = project.last_run().items[0]
    scores = {s.id: s for s in item.scores}
    assert scores["boom"].value is None and scores["boom"].error == "RuntimeError: scorer exploded"
    assert scores["nan"].value is None and "NaN" in scores["nan"].error
    assert scores["exact_match"].value == 1.0 and scores["exact_match"].passed is True
    assert item.status == "errored"
    aggregates = project.last_run().aggregates
    assert (
        aggregates["boom"].errors == 1
        and aggregates["boom"].n == 0
        and aggregates["boom"].mean is None
    )


def test_siblings_still_run_under_exitfirst(project, qa):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=boom", "--scorer=exact_match>=1", "-x"
    )
    assert result.ret == 1
    record = project.last_run()
    first = record.items[0]
    assert [s.id for s in first.scores] == ["boom", "exact_match"] and first.scores[1].value == 1.0
    assert record.status == "partial" and record.items[1].status == "not_run"
    result.stdout.fnmatch_lines(["*boom errored: RuntimeError: scorer exploded*"])


def test_failure_message_has_the_scorer_table(project, qa):
    qa(ROWS[1:])
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", "--scorer=length_ok"
    )
    result.stdout.fnmatch_lines(
        [
            "*exact_match=0 < 1; length_ok=0 < 0.5*",
            "*input:    x",
            "*expected: longer",
            "*output:   x",
            "*scorer       value  threshold  verdict  reason",
            "*exact_match  0.000  >= 1       FAIL*",
            "*length_ok    0.000  >= 0.5     FAIL*",
        ]
    )


@pytest.mark.parametrize(
    ("which", "outcomes"),
    [("none", {"failed": 1}), ("failed", {"failed": 1}), ("all", {"failed": 1})],
)
def test_scorer_reports_option(project, qa, which, outcomes):
    qa(ROWS[1:])
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match>=1",
        "--scorer=length_ok>=0",
        f"--scorer-reports={which}",
        "-v",
    )
    result.assert_outcomes(**outcomes)  # one row, one verdict, whatever is shown per scorer
    text = result.stdout.str()
    assert "subtests passed" not in text
    assert ("qa.jsonl::b SUBFAILED[exact_match]" in text) == (which != "none")
    assert ("qa.jsonl::b SUBPASSED[length_ok]" in text) == (which == "all")


def test_scorers_from_target_dataset_and_command_line_merge(project):
    (project.path / "qa.json").write_text(
        '{"name": "qa", "scorers": ["length_ok>=0", {"scorer": "contains", "params": {"substring": "A"}, "as": "hasA"}],'
        ' "items": [{"id": "a", "input": "abc", "expected": "ABC"}]}'
    )
    result = project.run("--dataset=qa.json", "--target=upper", "--scorer=exact_match>=0.5")
    result.assert_outcomes(passed=1)
    record = project.last_run()
    assert [s.id for s in record.scorers] == ["exact_match", "length_ok", "hasA"]
    assert record.scorers[0].threshold == 0.5  # the command line overrides the target's >=1


def test_row_scorers_override_params_and_add(project, qa):
    qa(
        [
            {"id": "a", "input": "Hello", "expected": "hello"},
            {
                "id": "b",
                "input": "Hello",
                "expected": "hello",
                "scorers": ["exact_match(ignore_case=true)>=1", "length_ok"],
            },
        ]
    )
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", "--scorer-reports=none"
    )
    result.assert_outcomes(passed=1, failed=1)
    a, b = project.last_run().items
    assert a.status == "failed" and b.status == "passed"
    assert [s.id for s in b.scores] == ["exact_match", "length_ok"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("exact_mach", "unknown scorer 'exact_mach'. Did you mean 'exact_match'"),
        ("exact_match>=3", "threshold 3.0 is outside [0, 1]"),
        ("exact_match(ignorecase=true)", "scorer 'exact_match' has no parameter 'ignorecase'"),
        ("contains(", "cannot parse scorer spec"),
    ],
)
def test_bad_scorer_specs_are_clean_errors(project, qa, spec, message):
    qa(ROWS)
    result = project.run("--dataset=qa.jsonl", "--target=echo", f"--scorer={spec}")
    # syntax is checked before collection (usage error); names and parameters once scorers are known
    syntax = "threshold" in message or "parse" in message
    assert result.ret == (pytest.ExitCode.USAGE_ERROR if syntax else pytest.ExitCode.INTERRUPTED)
    output = result.stdout.str() + result.stderr.str()
    assert message in output
    assert "Traceback" not in output


def test_async_scorer_and_score_object(project, qa):
    project.pytester.makepyfile(
        myscorers="""
import asyncio
from pytest_datasetrun import Score

async def judged(output, expected, *, weight=1.0):
    await asyncio.sleep(0)
    return Score(0.5 * weight, reason="half", metadata={"judge": "fake"})
"""
    )
    project.pytester.syspathinsert()
    qa(ROWS[:1])
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=myscorers:judged(weight=2)>=0.9"
    )
    result.assert_outcomes(passed=1)
    score = project.last_run().items[0].scores[0]
    assert (score.value, score.reason, score.metadata) == (1.0, "half", {"judge": "fake"})


def test_pytest_outcomes_and_bad_scores_inside_scorers_are_errors(project, qa):
    project.pytester.makepyfile(
        badscorers="""
import pytest
from pytest_datasetrun import Score

def pfail(output):
    pytest.fail("judge unavailable")

def pskip(output):
    pytest.skip("not today")

def badreason(output):
    return Score(0.5, reason=123)
"""
    )
    project.pytester.syspathinsert()
    qa(ROWS[:1])
    args = [
        "--scorer=badscorers:pfail",
        "--scorer=badscorers:pskip",
        "--scorer=badscorers:badreason",
        "--scorer=exact_match>=1",
    ]
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--scorer-reports=none", *args)
    result.assert_outcomes(errors=1)
    scores = {s.id: s for s in project.last_run().items[0].scores}
    assert scores["pfail"].error.startswith("Failed: judge unavailable")
    assert scores["pskip"].error.startswith("Skipped: not today")
    assert scores["badreason"].value == 0.5 and scores["badreason"].reason == "123"
    assert scores["exact_match"].passed is True


def test_unserialisable_outputs_are_recorded_as_repr(project, qa):
    project.pytester.makepyfile(
        weird="""
def cyclic(value):
    data = {"value": value}
    data["self"] = data
    return data

def raw_bytes(value):
    return b"\\xff\\xfe"
"""
    )
    project.pytester.syspathinsert()
    qa(ROWS[:1])
    for target in ("weird:cyclic", "weird:raw_bytes"):
        result = project.run("--dataset=qa.jsonl", f"--target={target}", "--scorer=length_ok>=0")
        result.assert_outcomes(passed=1)
        item = project.last_run().items[0]
        assert isinstance(item.output, str) and item.scores[0].value == 1.0


def test_error_text_names_its_type_once():
    from pytest_datasetrun.errors import describe_exception

    assert describe_exception(AttributeError("x")) == "AttributeError: x"
    assert describe_exception(AttributeError("AttributeError: x")) == "AttributeError: x"
    assert describe_exception(RuntimeError()) == "RuntimeError"
