"""The plugin beside the pytest plugins and options a project already uses (issue 11, catalogue).

Every case asserts the exit status, that no traceback was printed, what was recorded, and that
the run stored before it did not change.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

ROWS = [
    {"id": f"r{i:02d}", "input": f"v{i}", "expected": f"v{i}" if i % 4 else "other"}
    for i in range(8)
] + [{"id": "boom", "input": "raise-me"}]
ARGS = ("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1")


def verdicts(record) -> list[tuple]:
    return [(i.item_id, i.status, [(s.id, s.value) for s in i.scores]) for i in record.items]


@pytest.fixture
def reference(project, qa, earlier):
    """The serial record of ROWS, made with no other plugin involved."""
    qa(ROWS)
    assert project.run(*ARGS).ret == 1
    return verdicts(project.last_run())


def run_beside(project, reference, kept, clean, *args, code=1):
    result = project.run(*ARGS, *args)
    out = clean(result, code=code)
    assert verdicts(project.last_run()) == reference
    kept()
    return out


@pytest.mark.parametrize("seed", ["1", "2"])
def test_pytest_randomly_shuffles_rows_not_the_record(project, reference, kept, clean, mode, seed):
    out = run_beside(project, reference, kept, clean, "-p", "randomly", *mode,
                     f"--randomly-seed={seed}", "-v")  # fmt: skip
    assert f"Using --randomly-seed={seed}" in out


def test_pytest_rerunfailures_records_the_final_attempt(project, qa, earlier, kept, clean, mode,
                                                         monkeypatch):  # fmt: skip
    qa([{"id": f"f{i}", "input": f"x{i}"} for i in range(4)])
    monkeypatch.setenv("DR_FAILS", "1")  # every row fails once, then passes
    result = project.run("--dataset=qa.jsonl", "--target=flaky", "--reruns=1", *mode)
    clean(result, code=0)
    outcomes = result.parseoutcomes()
    assert (outcomes["passed"], outcomes["rerun"]) == (4, 4)
    record = project.last_run()
    assert [i.status for i in record.items] == ["passed"] * 4 and record.status == "completed"
    kept()


def test_pytest_rerunfailures_without_a_rerun_keeps_the_failure(project, reference, kept, clean):
    out = run_beside(project, reference, kept, clean, "--reruns=0")
    assert "boom" in out


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_pytest_timeout_errors_the_hanging_row(project, qa, earlier, kept, clean, concurrency):
    qa([{"id": "a", "input": "v1"}, {"id": "hung", "input": "hang"}, {"id": "b", "input": "v2"}])
    result = project.run_subprocess(
        "--dataset=qa.jsonl", "--target=faulty", "--timeout=1", f"--max-concurrency={concurrency}"
    )
    out = clean(result, code=1)
    assert "Timeout" in out
    record = project.last_run()
    assert [i.status for i in record.items] == ["passed", "errored", "passed"]
    assert "Timeout" in record.items[1].error
    kept()


def test_pytest_timeout_thread_method_under_xdist_is_a_lost_worker(
    project, qa, earlier, kept, clean
):
    qa([{"id": f"r{i}", "input": "hang" if i == 2 else f"v{i}"} for i in range(8)])
    result = project.run_subprocess(
        "--dataset=qa.jsonl", "--target=faulty", "--timeout=1", "--timeout-method=thread",
        "-n", "2",
    )  # fmt: skip
    out = result.stdout.str()
    assert result.ret == 1 and "INTERNALERROR" not in out
    record = project.last_run()
    assert record.items[2].status == "errored" and "crashed" in record.items[2].error
    assert record.counts.passed == 7
    kept()


def test_pytest_cov(project, reference, kept, clean, mode):
    out = run_beside(project, reference, kept, clean, "--cov=.", "--cov-report=term", *mode)
    assert "conftest.py" in out and "TOTAL" in out


def test_pytest_html(project, reference, kept, clean, mode):
    run_beside(project, reference, kept, clean, "--html=report.html", "--self-contained-html",
               *mode)  # fmt: skip
    html = (project.path / "report.html").read_text()
    assert "qa.jsonl::r01" in html and "qa.jsonl::boom" in html


def test_langsmith_and_hypothesis_plugins(project, reference, kept, clean, mode):
    # Installed with the frameworks and test extras; tests/conftest.py leaves them out elsewhere.
    out = run_beside(project, reference, kept, clean, "-p", "langsmith_plugin",
                     "-p", "hypothesispytest", "--hypothesis-show-statistics", *mode)  # fmt: skip
    plugins = next(line for line in out.splitlines() if line.startswith("plugins:"))
    assert "langsmith-" in plugins and "hypothesis-" in plugins


def test_junitxml_has_one_testcase_per_row(project, reference, kept, clean, mode):
    run_beside(project, reference, kept, clean, "--junitxml=junit.xml", *mode)
    cases = ET.parse(project.path / "junit.xml").getroot().iter("testcase")
    names = sorted({case.get("name") for case in cases})
    assert names == sorted(row["id"] for row in ROWS)


def test_without_the_cacheprovider(project, reference, kept, clean, mode):
    shutil.rmtree(project.path / ".pytest_cache")
    run_beside(project, reference, kept, clean, "-p", "no:cacheprovider", *mode)
    assert not (project.path / ".pytest_cache").exists()


def test_without_xdist(project, reference, kept, clean):
    run_beside(project, reference, kept, clean, "-p", "no:xdist")


def test_plugin_disabled_rejects_its_options(project, earlier, kept, snapshot):
    result = project.run(*ARGS, "-p", "no:datasetrun")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --dataset=qa.jsonl*"])
    assert snapshot() == {key: value for key, value in snapshot().items() if key in earlier}
    kept()


def test_plugin_disabled_leaves_ordinary_tests_alone(project, earlier, kept, snapshot, clean):
    project.pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    project.pytester.makeini("[pytest]\ndatasetrun_datasets = qa.jsonl\n")
    result = project.run(
        "-p", "no:datasetrun", "test_plain.py", "-W", "ignore::pytest.PytestConfigWarning"
    )
    clean(result, code=0)
    result.assert_outcomes(passed=1)
    assert set(snapshot()) == set(earlier)
    kept()
