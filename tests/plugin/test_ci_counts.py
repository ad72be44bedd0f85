"""CI counts match rows: pytest's summary line, JUnit and the run record agree (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

junitparser = pytest.importorskip("junitparser")
xmlschema = pytest.importorskip("xmlschema")

XSD = Path(__file__).parent.parent / "junit-10.xsd"

ROWS = [
    {"id": "ok", "input": "abc", "expected": "abc"},
    {"id": "bad", "input": "x", "expected": "longer"},  # both scorers fail
    {"id": "boom", "input": "raise-me", "expected": "x"},  # the target raises
    {"id": "judge", "input": "abc", "expected": "abc", "scorers": ["boom"]},  # a scorer raises
]
SCORERS = ["--scorer=exact_match>=1", "--scorer=length_ok"]


@pytest.fixture(scope="module")
def schema() -> object:
    return xmlschema.XMLSchema(str(XSD))


def xsd_deviations(schema: object, path: Path) -> set[str]:
    """The reasons the file fails the junit-10 XSD, by element tag."""
    return {
        error.reason.split("'")[1] if "'" in error.reason else error.reason
        for error in schema.iter_errors(str(path))  # type: ignore[attr-defined]
    }


def cases(path: Path) -> dict[str, object]:
    xml = junitparser.JUnitXml.fromfile(str(path))
    return {case.name: case for suite in xml for case in suite}


def suite_counts(path: Path) -> tuple[int, int, int]:
    suite = next(iter(junitparser.JUnitXml.fromfile(str(path))))
    return suite.tests, suite.failures, suite.errors


@pytest.mark.parametrize("reports", ["failed", "all", "none"])
def test_summary_junit_and_record_count_rows(project, qa, mode, reports, schema):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        *SCORERS,
        f"--scorer-reports={reports}",
        "--junitxml=junit.xml",
        *mode,
    )
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1, errors=2)
    counts = project.last_run().counts
    assert (counts.passed, counts.failed, counts.errored) == (1, 1, 2)
    junit = project.path / "junit.xml"
    assert suite_counts(junit) == (4, 1, 2)
    by_name = cases(junit)
    assert set(by_name) == {"ok", "bad", "boom", "judge"}
    kinds = {name: [type(r).__name__ for r in case.result] for name, case in by_name.items()}
    assert kinds == {"ok": [], "bad": ["Failure"], "boom": ["Error"], "judge": ["Error"]}
    # the row's one failure names every failing scorer
    bad = by_name["bad"].result[0]
    assert "exact_match=0 < 1; length_ok=0 < 0.5" in bad.message
    # pytest's own output for an error, or a property of a testcase, breaks this XSD the same way
    assert xsd_deviations(schema, junit) == {"properties", "error"}


def test_junit_properties_carry_scores_thresholds_errors_and_latency(project, qa):
    qa(ROWS)
    project.run("--dataset=qa.jsonl", "--target=echo", *SCORERS, "--junitxml=junit.xml")
    by_name = cases(project.path / "junit.xml")
    props = {
        name: {p.name: p.value for p in case.child(junitparser.Properties)}  # type: ignore[attr-defined]
        for name, case in by_name.items()
    }
    assert props["bad"]["datasetrun.status"] == "failed"
    assert props["bad"]["datasetrun.score.exact_match"] == "0"
    assert props["bad"]["datasetrun.threshold.exact_match"] == "1"
    assert props["bad"]["datasetrun.threshold.length_ok"] == "0.5"
    assert float(props["bad"]["datasetrun.target_latency_s"]) >= 0
    assert props["boom"]["datasetrun.target_error"] == "ValueError: target exploded on raise-me"
    assert props["judge"]["datasetrun.score.boom"] == "error"
    assert props["judge"]["datasetrun.error.boom"] == "RuntimeError: scorer exploded"
    assert props["ok"]["datasetrun.status"] == "passed"


def test_properties_can_be_turned_off_for_strict_schemas(project, qa, schema):
    qa(ROWS[:2])
    project.pytester.makeini(
        "[pytest]\nconsole_output_style = classic\ndatasetrun_junit_properties = false\n"
    )
    result = project.run("--dataset=qa.jsonl", "--target=echo", *SCORERS, "--junitxml=j.xml")
    result.assert_outcomes(passed=1, failed=1)
    assert xsd_deviations(schema, project.path / "j.xml") == set()  # valid as it stands
    assert suite_counts(project.path / "j.xml") == (2, 1, 0)


def test_failing_gate_and_regression_are_testcases_of_their_own(project, qa, mode):
    qa([{"id": f"r{i:02d}", "input": "abc", "expected": "abc"} for i in range(30)])
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--run-name=main")
    qa(
        [
            {"id": f"r{i:02d}", "input": "abc" if i % 2 else "x", "expected": "abc"}
            for i in range(30)
        ]
    )
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match",
        "--fail-under=exact_match=0.9",
        "--baseline=main",
        "--max-regression=0.1",
        "--junitxml=junit.xml",
        *mode,
    )
    assert result.ret == 1
    result.assert_outcomes(passed=30, failed=2)
    result.stdout.fnmatch_lines(
        [
            "FAILED datasetrun::quality-gate - *exact_match*0.500*",
            "FAILED datasetrun::baseline-regression - REGRESSION in exact_match*",
        ]
    )
    junit = project.path / "junit.xml"
    assert suite_counts(junit) == (32, 2, 0)
    gate = cases(junit)["quality-gate"]
    assert gate.classname == "datasetrun"  # type: ignore[attr-defined]
    assert "quality gate: FAILED" in gate.result[0].text


def test_maxfail_counts_rows_not_scorers(project, qa):
    qa([ROWS[1], {**ROWS[1], "id": "bad2"}, {**ROWS[1], "id": "bad3"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", *SCORERS, "--maxfail=2")
    # each row has two failing scorers; --maxfail=2 stops after two *rows*
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*stopping after 2 failures*"])
    assert [i.status for i in project.last_run().items] == ["failed", "failed", "not_run"]
