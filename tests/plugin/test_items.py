"""Rows become pytest items: outcomes, node ids, selection, and the run record, serial and -n 2."""

from __future__ import annotations

import pytest


def test_each_row_is_an_item_with_target_errors_and_scores(project, qa, mode):
    qa()
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match>=1",
        "--scorer-reports=none",
        *mode,
    )
    result.assert_outcomes(passed=2, failed=1, errors=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*ERROR qa.jsonl::q3 - ValueError: target exploded on raise-me*"])
    result.stdout.fnmatch_lines(["*FAILED qa.jsonl::q4 - EvaluationFailed: exact_match=0 < 1*"])
    record = project.last_run()
    assert [(i.item_id, i.status) for i in record.items] == [
        ("q1", "passed"),
        ("q2", "passed"),
        ("q3", "errored"),
        ("q4", "failed"),
    ]
    q3 = record.items[2]
    assert q3.error == "ValueError: target exploded on raise-me" and q3.scores == []
    assert record.counts.passed == 2 and record.counts.failed == 1 and record.counts.errored == 1
    agg = record.aggregates["exact_match"]
    assert (agg.n, agg.target_errors) == (4, 1)  # the row whose target raised counts as 0 (#10)
    assert agg.mean == pytest.approx(2 / 4)


def test_target_error_traceback_points_into_user_code(project, qa):
    qa()
    result = project.run("--dataset=qa.jsonl", "--target=echo", "-k", "q3")
    result.stdout.fnmatch_lines(
        ["conftest.py:*: in echo", "*raise ValueError*", "E   ValueError: target exploded*"]
    )
    assert (
        "pytest_datasetrun"
        not in result.stdout.str().split("= ERRORS =")[1].split("datasetrun ==")[0]
    )


def test_verbose_line_shows_every_score(project, qa):
    qa([{"id": "a", "input": "x", "expected": "x"}])
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match", "--scorer=length_ok", "-v"
    )
    result.stdout.fnmatch_lines(["qa.jsonl::a PASSED [[]exact_match=1 length_ok=1[]]*"])


def test_only_the_dataset_runs_without_positional_args(project, qa):
    qa()
    project.pytester.makepyfile(test_other="def test_x(): pass")
    result = project.run("--dataset=qa.jsonl", "--target=echo", "-k", "q1")
    result.assert_outcomes(passed=1)
    both = project.run("test_other.py", "--dataset=qa.jsonl", "--target=echo", "-k", "q1 or test_x")
    both.assert_outcomes(passed=2)


def test_select_one_row_by_node_id(project, qa, mode):
    qa()
    result = project.run("--dataset=qa.jsonl", "--target=echo", "qa.jsonl::q2", *mode)
    result.assert_outcomes(passed=1)
    assert project.calls() == ["bye"]
    record = project.last_run()
    assert [i.item_id for i in record.items] == ["q2"]
    assert record.datasets[0].total == 4 and record.datasets[0].selected == 1


def test_keyword_matches_ids_and_tags(project, qa, mode):
    qa()
    result = project.run("--dataset=qa.jsonl", "--target=echo", "-k", "greeting", *mode)
    result.assert_outcomes(passed=2)
    assert sorted(project.calls()) == ["hello", "what"]


def test_marker_selects_by_tag_under_strict_markers(project, qa, mode):
    qa()
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "-m", "farewell", "--strict-markers", *mode
    )
    result.assert_outcomes(passed=1)
    assert project.calls() == ["bye"]


def test_deselect_and_last_failed(project, qa, mode):
    qa()
    first = project.run("--dataset=qa.jsonl", "--target=echo", "--deselect", "qa.jsonl::q3", *mode)
    first.assert_outcomes(passed=3)
    assert "raise-me" not in project.calls()
    project.run("--dataset=qa.jsonl", "--target=echo", *mode)
    (project.path / "calls.log").unlink()
    rerun = project.run("--dataset=qa.jsonl", "--target=echo", "--lf", *mode)
    rerun.assert_outcomes(errors=1)
    assert project.calls() == ["raise-me"]


def test_ids_are_made_safe_and_raw_ids_kept(project, qa, mode):
    qa(
        [
            {"id": "what is [2+2]?", "input": "a"},
            {"id": "a::b c", "input": "b"},
            {"input": "no id"},
        ]
    )
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--collect-only", "-q", *([] if not mode else [])
    )
    result.stdout.fnmatch_lines(["qa.jsonl::what_is_2+2_?", "qa.jsonl::a_b_c", "qa.jsonl::row-*"])
    run = project.run("--dataset=qa.jsonl", "--target=echo", *mode)
    run.assert_outcomes(passed=3)
    assert [i.item_id for i in project.last_run().items][:2] == ["what is [2+2]?", "a::b c"]


def test_collect_only_under_xdist_lists_the_rows(project, qa):
    """xdist stays out of --collect-only, so the controller collects the rows itself."""
    qa()
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--collect-only", "-q", "-n", "2")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["qa.jsonl::q1", "qa.jsonl::q2", "qa.jsonl::q3", "qa.jsonl::q4"])
    assert project.calls() == [] and project.runs() == []


def test_rows_without_id_keep_their_id_when_rows_move(project, qa):
    qa([{"input": "one"}, {"input": "two"}])
    first = project.run("--dataset=qa.jsonl", "--target=echo", "--collect-only", "-q").stdout.lines[
        :2
    ]
    qa([{"input": "zero"}, {"input": "two"}, {"input": "one"}])
    second = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--collect-only", "-q"
    ).stdout.lines[:3]
    assert first[0] in second and first[1] in second


def test_plain_pytest_run_does_not_import_pydantic_or_tinydb(pytester, monkeypatch):
    # Other installed plugins may import pydantic themselves (langsmith's does): load only ours.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        test_plain="""
        import sys
        def test_no_heavy_imports():
            assert "pydantic" not in sys.modules
            assert "tinydb" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "datasetrun")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / ".datasetrun").exists()


def test_disabled_plugin_with_hook_impls_in_conftest(pytester):
    pytester.makeconftest(
        """
        import pytest
        @pytest.hookimpl(optionalhook=True)
        def pytest_datasetrun_targets(config):
            return []
        """
    )
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "no:datasetrun")
    result.assert_outcomes(passed=1)


def test_dataset_and_options_from_ini(project, qa):
    qa()
    project.pytester.makeini(
        "[pytest]\ndatasetrun_datasets = qa.jsonl\ndatasetrun_target = echo\n"
        "datasetrun_scorers =\n    exact_match>=1\n"
    )
    result = project.run("--scorer-reports=none")
    result.assert_outcomes(passed=2, failed=1, errors=1)


def test_dataset_outside_rootdir_warns(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "qa.jsonl"
    outside.write_text('{"id": "a", "input": "x"}\n')
    result = project.run(f"--dataset={outside}", "--target=echo")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*PytestConfigWarning: datasetrun: *qa.jsonl is outside the rootdir*"]
    )


def test_xfail_rows_keep_pytest_semantics(project, qa):
    qa([{"id": "xf", "input": "a", "expected": "b"}])
    (project.path / "conftest.py").write_text(
        (project.path / "conftest.py").read_text()
        + "\n\ndef pytest_collection_modifyitems(items):\n"
        + "    for item in items:\n        item.add_marker(pytest.mark.xfail(reason='known bad'))\n"
    )
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match>=1",
        "-v",
        "-ra",
        "--scorer-reports=none",
    )
    assert result.ret == 0
    result.assert_outcomes(xfailed=1)
    assert "INTERNALERROR" not in result.stdout.str()
    item = project.last_run().items[0]
    assert item.status == "skipped" and item.error == "xfail: known bad"
    assert item.scores[0].value == 0.0  # the scores are still recorded


def test_pytest_verdicts_after_the_call_win(project, qa):
    qa([{"id": "xp", "input": "a", "expected": "a"}, {"id": "td", "input": "a", "expected": "a"}])
    (project.path / "conftest.py").write_text(
        (project.path / "conftest.py").read_text()
        + "\n\ndef pytest_collection_modifyitems(items):\n"
        + "    items[0].add_marker(pytest.mark.xfail(reason='flaky', strict=True))\n"
        + "\n\n@pytest.fixture(autouse=True)\ndef _teardown_breaks(request):\n    yield\n"
        + "    if request.node.name == 'td':\n        raise RuntimeError('cleanup failed')\n"
    )
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1")
    xp, td = project.last_run().items
    assert xp.status == "failed" and "XPASS(strict)" in xp.error
    assert td.status == "errored" and "cleanup failed" in td.error


def test_collect_only_records_nothing(project, qa):
    qa()
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--collect-only", "-q")
    assert result.ret == 0
    assert project.runs() == [] and project.calls() == []


@pytest.mark.parametrize("tag", ["2024", "v1.2", "é-tag"])
def test_unusual_tags_select_with_m(project, qa, tag):
    qa([{"id": "a", "input": "x", "tags": [tag]}, {"id": "b", "input": "y"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "-m", tag, "--strict-markers")
    result.assert_outcomes(passed=1)


def test_ini_datasets_run_beside_testpaths(project, qa):
    qa(name="evals/qa.jsonl")
    project.pytester.mkdir("tests")
    (project.path / "tests" / "test_unit.py").write_text("def test_unit(): pass\n")
    project.pytester.makeini(
        "[pytest]\ntestpaths = tests\ndatasetrun_datasets = evals/qa.jsonl\ndatasetrun_target = echo\n"
    )
    both = project.run("-k", "q1 or unit")
    both.assert_outcomes(passed=2)
    only_tests = project.run("--no-datasets")
    only_tests.assert_outcomes(passed=1)
    only_dataset = project.run("--dataset=evals/qa.jsonl", "-k", "q1 or unit")
    only_dataset.assert_outcomes(passed=1)


def test_two_datasets_outside_rootdir_are_a_usage_error(project, tmp_path_factory):
    paths = []
    for name in ("one", "two"):
        path = tmp_path_factory.mktemp(name) / "qa.jsonl"
        path.write_text('{"id": "a", "input": "x"}\n')
        paths.append(f"--dataset={path}")
    result = project.run(*paths, "--target=echo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: datasetrun: *are outside the rootdir*"])
