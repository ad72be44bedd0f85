"""The datasetrun terminal section: scorer table with intervals, slowest rows, width, -q."""

from __future__ import annotations

from pytest_datasetrun.report.table import display_width

ROWS = [{"id": f"r{i}", "input": "abc" if i % 3 else "x", "expected": "abc"} for i in range(9)]
LONG = "a_scorer_alias_long_enough_to_overflow_an_eighty_column_terminal_line_by_itself"


def section(text: str) -> list[str]:
    return text.split("= datasetrun =")[1].split("short test summary")[0].splitlines()[1:-1]


def test_section_has_intervals_slowest_rows_and_fits_the_width(project, qa, mode):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        f"--scorer={LONG}=exact_match>=1",
        "--fail-under=" + LONG + "=0.9",
        *mode,
    )
    lines = section(result.stdout.str())
    header = next(line for line in lines if line.startswith("scorer"))
    assert "95% CI" in header and "pass" in header and "errors" in header
    assert any(line.startswith("a_scorer_alias") and "[0.282, 1.000]" in line for line in lines)
    # "slowest: ..." follows when rows took measurable time (the echo target takes none)
    table = lines[: next(i for i, line in enumerate(lines) if "quality gate" in line)]
    assert all(display_width(line) <= 80 for line in table), table  # pytester's terminal
    gates = [line for line in lines[len(table) :] if line.startswith(("  ", "quality gate"))]
    assert any(line.startswith("  FAIL  mean a_scorer_alias") and "0.667" in line for line in gates)
    assert all(display_width(line) <= 80 for line in gates), gates  # the gate lines fit too


def test_quiet_shortens_the_section(project, qa):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1",
        "--fail-under=exact_match=0.9", "-q",
    )  # fmt: skip
    lines = section(result.stdout.str())
    assert lines[1].startswith("items: 9 selected, 6 passed, 3 failed")
    assert not any(line.startswith(("scorer", "slowest")) for line in lines)
    assert "quality gate: FAILED (1 of 1 gates)" in lines


def test_live_progress_text():
    from pytest_datasetrun.plugin.progress import progress_text

    assert progress_text(120, 1000, 8, 2, 30.0) == (
        "datasetrun 120/1000 · 8 in flight · 2 errors · 4.0/s · ETA 3m40s"
    )
    assert progress_text(0, 10, 3, 1, 0.0).endswith("1 error · 0.0/s · ETA -")
    assert progress_text(5000, 9000, 0, 0, 1.0).endswith("5000.0/s · ETA 1s")


def test_live_progress_stays_quiet_when_not_a_terminal(project, qa):
    qa(ROWS)
    result = project.run("--dataset=qa.jsonl", "--target=aslow", "--max-concurrency=4")
    result.assert_outcomes(passed=9)
    assert "\x1b]0;" not in result.stdout.str()
    assert "datasetrun-progress" not in result.stdout.str()
