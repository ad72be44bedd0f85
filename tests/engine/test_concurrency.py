"""Bounded in-process concurrency, timeouts and retries; never a duplicate target call."""

from __future__ import annotations

import collections

import pytest


def rows(n):
    return [
        {"id": f"r{i:03d}", "input": f"v{i}", "tags": ["odd" if i % 2 else "even"]}
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["-n", "2"],
        ["-n", "2", "--dist", "loadscope"],
        ["-n", "2", "--dist", "worksteal"],
        ["-n", "2", "--dist", "loadfile"],
    ],
    ids=["serial", "load", "loadscope", "worksteal", "loadfile"],
)
def test_every_selected_item_runs_exactly_once(project, qa, extra, monkeypatch):
    monkeypatch.setenv("DR_SLEEP", "0.05")
    qa(rows(60))
    result = project.run(
        "--dataset=qa.jsonl", "--target=slow", "--max-concurrency=8", "-k", "not r000", *extra
    )
    result.assert_outcomes(passed=59)
    counts = collections.Counter(project.calls())
    assert set(counts.values()) == {1}
    assert len(counts) == 59 and "v0" not in counts
    record = project.last_run()
    assert [i.item_id for i in record.items] == [f"r{i:03d}" for i in range(1, 60)]
    assert [i.output for i in record.items] == [f"v{i}" for i in range(1, 60)]


def test_marker_selection_with_concurrency(project, qa):
    qa(rows(20))
    result = project.run("--dataset=qa.jsonl", "--target=aslow", "--max-concurrency=4", "-m", "odd")
    result.assert_outcomes(passed=10)
    assert sorted(project.calls()) == sorted(f"v{i}" for i in range(1, 20, 2))


@pytest.mark.parametrize(
    "extra", [["--max-concurrency=1"], ["--max-concurrency=6"]], ids=["inline", "prefetch"]
)
def test_async_client_from_a_session_fixture_keeps_one_loop(project, qa, extra):
    qa(rows(12))
    result = project.run("--dataset=qa.jsonl", "--target=loopbound", *extra)
    result.assert_outcomes(passed=12)


def test_function_scoped_fixture_with_concurrency_is_a_clear_error(project, qa):
    qa(rows(3))
    result = project.run(
        "--dataset=qa.jsonl", "--target=needs_function_fixture", "--max-concurrency=2"
    )
    result.stdout.fnmatch_lines(["*takes the function-scoped fixture 'per_test_thing'*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error: no row ran
    assert project.calls() == []


@pytest.mark.parametrize("target", ["faulty", "aslow"])
def test_item_timeout_is_a_target_error(project, qa, target, monkeypatch):
    monkeypatch.setenv("DR_SLEEP", "30")
    qa([{"id": "a", "input": "hang"}])
    result = project.run("--dataset=qa.jsonl", f"--target={target}", "--item-timeout=0.2")
    result.assert_outcomes(errors=1)
    item = project.last_run().items[0]
    assert item.status == "errored" and item.error == "TargetTimeout: timed out after 0.2 s"


def test_retries_with_backoff_record_attempts(project, qa):
    qa([{"id": "a", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", "--target=flaky", "--max-retries=3")
    result.assert_outcomes(passed=1)
    assert project.last_run().items[0].attempts == 3
    assert project.calls() == ["x", "x", "x"]


def test_only_transient_errors_are_retried_unless_retry_on_widens(project, qa):
    """A ValueError is a bug, not a rate limit: it is not retried unless --retry-on names it."""
    qa([{"id": "a", "input": "raise-bug"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--max-retries=3")
    result.assert_outcomes(errors=1)
    item = project.last_run().items[0]
    assert item.attempts == 1 and item.error == "ValueError: target exploded on raise-bug"
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--max-retries=2", "--retry-on=ValueError"
    )
    result.assert_outcomes(errors=1)
    assert project.last_run().items[0].attempts == 3
    assert project.calls() == ["raise-bug"] * 4


def test_retry_hook_decides(project, qa):
    project.pytester.makepyfile(
        conftest_extra="",
    )
    (project.path / "conftest.py").write_text(
        (project.path / "conftest.py").read_text()
        + "\n\n@pytest.hookimpl(optionalhook=True)\ndef pytest_datasetrun_should_retry(exc, attempt):\n    return False\n"
    )
    qa([{"id": "a", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", "--target=flaky", "--max-retries=3")
    result.assert_outcomes(errors=1)
    assert project.last_run().items[0].attempts == 1


def test_exitfirst_stops_launching_work(project, qa, monkeypatch):
    monkeypatch.setenv("DR_SLEEP", "0.1")
    data = rows(60)
    data[3]["input"] = "raise-now"
    qa(data)
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--max-concurrency=4", "-x")
    assert result.ret == 1
    assert len(project.calls()) < 20
    record = project.last_run()
    assert record.status == "partial" and record.counts.not_run > 40


def test_rows_skipped_in_setup_do_not_starve_the_window(project, qa, monkeypatch):
    monkeypatch.setenv("DR_SLEEP", "0.05")
    qa(rows(30))
    (project.path / "conftest.py").write_text(
        (project.path / "conftest.py").read_text()
        + "\n\ndef pytest_runtest_setup(item):\n    if item.name.endswith(('3', '6', '9')):\n"
        + "        pytest.skip('skipped in setup')\n"
    )
    result = project.run("--dataset=qa.jsonl", "--target=slow", "--max-concurrency=4")
    result.assert_outcomes(passed=21, skipped=9)
    record = project.last_run()
    assert record.counts.skipped == 9 and record.counts.passed == 21
    counts = collections.Counter(project.calls())
    assert set(counts.values()) == {1}


def test_xfail_marked_rows_are_not_prefetched(project, qa):
    qa(rows(10))
    (project.path / "conftest.py").write_text(
        (project.path / "conftest.py").read_text()
        + "\n\ndef pytest_collection_modifyitems(items):\n    for item in items[::2]:\n"
        + "        item.add_marker(pytest.mark.xfail(run=False, reason='not yet'))\n"
    )
    result = project.run("--dataset=qa.jsonl", "--target=slow", "--max-concurrency=4")
    result.assert_outcomes(passed=5, xfailed=5)
    assert sorted(project.calls()) == sorted(f"v{i}" for i in range(1, 10, 2))


@pytest.mark.parametrize("dist", ["load", "worksteal"])
def test_each_worker_keeps_its_window_full(project, qa, dist):
    qa(rows(48))
    result = project.run(
        "--dataset=qa.jsonl", "--target=inflight", "--max-concurrency=6", "-n", "2", "--dist", dist
    )
    result.assert_outcomes(passed=48)
    calls = project.calls()
    assert len(calls) == 48
    # xdist's own load scheduler holds about two rows per worker once rows take >= 0.1 s, so
    # after the first batch a worker would see at most two calls in flight
    later = sorted(call["inflight"] for call in calls[24:])
    assert later[len(later) // 2] >= 3, later  # the median over the second half of the run
