"""Issue 10 in a pytest session: target errors in gates and comparisons, Holm across scorers."""

from __future__ import annotations

import pytest

from pytest_datasetrun.cli.main import main as cli_main

PASSING = [{"id": f"r{i:02d}", "input": "abc", "expected": "abc"} for i in range(40)]
# The candidate's target raises on 12 rows the baseline passed.
CRASHING = [
    {"id": f"r{i:02d}", "input": "raise" if i < 12 else "abc", "expected": "abc"} for i in range(40)
]


@pytest.mark.parametrize("policy", [None, "zero", "exclude"])
def test_target_errors_count_as_zero_in_gates_and_comparisons(project, qa, mode, policy):
    qa(PASSING)
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--run-name=main")
    qa(CRASHING)
    args = ["--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--baseline=main"]
    args += ["--fail-under=exact_match=0.9", "--max-errors=20", *mode]
    result = project.run(*args, *([f"--target-errors={policy}"] if policy else []))
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the 12 errored rows fail anyway
    record = project.last_run()
    (fail_under, max_errors) = record.gates
    comparison = record.comparison
    (scorer,) = comparison["scorers"]
    assert record.counts.errored == 12 and max_errors.passed
    assert scorer["cand_target_errors"] == 12 and scorer["cand_errors"] == 0
    if policy == "exclude":
        assert fail_under.passed and fail_under.value == 1.0
        assert fail_under.detail == "over 28 items (12 target errors left out)"
        assert not comparison["regressed"] and scorer["n"] == 28
        result.stdout.fnmatch_lines(["12 rows whose target failed are left out of n and mean*"])
        result.stdout.fnmatch_lines(
            ["result: no regression (target-errored rows left out: 0 base, 12 candidate)"]
        )
    else:
        assert not fail_under.passed and fail_under.value == pytest.approx(28 / 40)
        assert fail_under.detail == "over 40 items (12 target errors counted as 0)"
        assert comparison["regressed"] and scorer["n"] == 40
        result.stdout.fnmatch_lines(["12 rows whose target failed count as 0 in n, mean and pass*"])
        result.stdout.fnmatch_lines(
            [
                "result: REGRESSION in exact_match (target-errored rows counted as 0: 0 base, 12 candidate)"
            ]
        )
    assert record.aggregates["exact_match"].target_errors == 12


def test_a_scorer_error_is_budgeted_by_max_errors_never_a_zero(project, qa):
    qa(PASSING[:10])
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--scorer=boom",
        "--fail-under=boom=0.0", "--max-errors=9",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    fail_under, max_errors = project.last_run().gates
    assert fail_under.value is None and fail_under.detail == "no value: all 10 scores errored"
    assert not max_errors.passed and max_errors.detail == "10 of 10 items errored"


# exact_match loses 6 rows (p = 2/2**6 = 0.031 alone), length_ok is unchanged (p = 1).
SIX_LONGER = [
    {"id": f"r{i:02d}", "input": "abcd" if i < 6 else "abc", "expected": "abc"} for i in range(40)
]


@pytest.mark.parametrize("correction", [None, "holm", "none"])
def test_regression_correction_holm_by_default(project, qa, mode, correction):
    scorers = ["--scorer=exact_match", "--scorer=length_ok"]
    qa(PASSING)
    project.run("--dataset=qa.jsonl", "--target=echo", *scorers, "--run-name=main")
    qa(SIX_LONGER)
    extra = [f"--regression-correction={correction}"] if correction else []
    result = project.run("--dataset=qa.jsonl", "--target=echo", *scorers, "--baseline=main",
                         "--scorer-reports=none", *mode, *extra)  # fmt: skip
    comparison = project.last_run().comparison
    exact = comparison["scorers"][0]
    assert exact["p_value"] == pytest.approx(2 / 2**6)
    if correction == "none":
        assert result.ret == pytest.ExitCode.TESTS_FAILED and comparison["regressed"]
        result.stdout.fnmatch_lines(["result: REGRESSION in exact_match (uncorrected)"])
    else:
        assert comparison["correction"] == "holm" and not comparison["regressed"]
        assert exact["p_adjusted"] == pytest.approx(2 * 2 / 2**6)
        result.stdout.fnmatch_lines(
            ["*Holm-corrected over 2 scorers*", "result: no regression (Holm-corrected)"]
        )
    # 6 failing rows fail the session under every correction; the comparison alone decides here
    # whether the exit status says "regression" on the command line:
    code = cli_main(["compare", "main", "latest", *extra])
    assert code == (1 if correction == "none" else 0)


def test_bad_target_errors_and_correction_values_are_usage_errors(project, qa):
    qa(PASSING[:2])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--target-errors=drop")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--target-errors: invalid choice: 'drop'*"])
    project.pytester.makeini(
        "[pytest]\nconsole_output_style = classic\ndatasetrun_regression_correction = bonferroni\n"
    )
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: datasetrun_regression_correction: 'bonferroni' is not one of holm, none"]
    )
