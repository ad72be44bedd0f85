"""Quality gates and baseline comparison inside a pytest session."""

from __future__ import annotations

import pytest

ROWS = [
    {"id": f"r{i:02d}", "input": "abc" if i % 4 else "ab", "expected": "abc"} for i in range(40)
]


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_failing_gate_fails_a_green_session(project, qa, extra):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match",
        "--fail-under=exact_match=0.9",
        "--min-pass-rate=0.5",
        "--max-errors=0",
        *extra,
    )
    assert result.ret == 1
    # the rows all passed; the gate is a failed test of its own
    result.assert_outcomes(passed=40, failed=1)
    result.stdout.fnmatch_lines(["*quality gate*", "*FAIL*exact_match*0.750*0.9*"])
    result.stdout.fnmatch_lines(["FAILED datasetrun::quality-gate - *exact_match*0.750*"])
    gates = project.last_run().gates
    assert [(g.passed) for g in gates] == [False, True, True]
    assert project.last_run().exit_status == 1


def test_passing_gates_keep_exit_zero(project, qa):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match",
        "--fail-under=exact_match=0.7",
    )
    assert result.ret == 0
    assert all(g.passed for g in project.last_run().gates)


def test_gate_on_unknown_scorer_fails_loudly(project, qa):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--fail-under=exact_mtch=0.5"
    )
    assert result.ret == 1
    assert project.last_run().gates[0].passed is False


def test_baseline_regression_fails_only_when_significant(project, qa):
    qa([{"id": f"r{i:02d}", "input": "abc", "expected": "abc"} for i in range(40)])
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--run-name=main")
    # the candidate breaks 20 of 40 rows: a large, significant drop
    qa(
        [
            {"id": f"r{i:02d}", "input": "abc" if i % 2 else "xyz", "expected": "abc"}
            for i in range(40)
        ]
    )
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match",
        "--baseline=main",
        "--max-regression=0.1",
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*baseline comparison*"])
    record = project.last_run()
    assert record.comparison is not None
    # a tiny drop (1 of 40 rows) is within the allowed delta: no failure
    qa([{"id": f"r{i:02d}", "input": "abc" if i else "xyz", "expected": "abc"} for i in range(40)])
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match",
        "--baseline=main",
        "--max-regression=0.1",
    )
    assert result.ret == 0


def test_unknown_baseline_is_a_usage_error_before_anything_runs(project, qa):
    qa(ROWS[:3])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--baseline=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: datasetrun: run store *runs.json does not exist*"])
    project.run("--dataset=qa.jsonl", "--target=echo", "--run-name=main")
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--baseline=mian")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: datasetrun: *mian*main*"])
    assert len(project.calls()) == 3  # only the one real run called the target


def test_cli_compare_exit_code(project, qa):
    import subprocess
    import sys

    qa([{"id": f"r{i:02d}", "input": "abc", "expected": "abc"} for i in range(40)])
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match")
    qa(
        [
            {"id": f"r{i:02d}", "input": "abc" if i % 2 else "xyz", "expected": "abc"}
            for i in range(40)
        ]
    )
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_datasetrun",
            "compare",
            "latest~1",
            "latest",
            "--max-regression",
            "0.1",
        ],
        cwd=project.path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "exact_match" in done.stdout
