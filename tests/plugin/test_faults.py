"""Runs stopped early or broken still write one run record, marked partial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def _default_signals() -> None:
    # A suite started from a background shell (or under nohup) passes ignored SIGINT/SIGHUP on;
    # the plugin rightly leaves an ignored signal ignored, so the session under test gets the
    # default dispositions back (Python then turns SIGINT into KeyboardInterrupt as usual).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def rows(n, special=None):
    out = [{"id": f"r{i:02d}", "input": f"v{i}"} for i in range(n)]
    if special:
        for index, value in special.items():
            out[index]["input"] = value
    return out


@pytest.mark.parametrize(
    "extra", [["--maxfail=2"], ["--maxfail=2", "-n", "2"]], ids=["serial", "xdist"]
)
def test_maxfail_writes_a_partial_run(project, qa, extra):
    qa(rows(30, {1: "raise1", 2: "raise2", 3: "raise3"}))
    result = project.run("--dataset=qa.jsonl", "--target=echo", *extra)
    assert result.ret in (1, 2)
    record = project.last_run()
    assert record.status == "partial"
    assert record.counts.selected == 30
    assert record.counts.errored >= 2
    assert record.counts.not_run > 0
    assert record.counts.passed + record.counts.errored + record.counts.not_run == 30
    assert [i.item_id for i in record.items] == [f"r{i:02d}" for i in range(30)]


def test_keyboard_interrupt_inside_target(project, qa):
    qa(rows(5, {2: "stop"}))
    result = project.run_subprocess("--dataset=qa.jsonl", "--target=faulty")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    record = project.last_run()
    assert record.status == "partial"
    assert [i.status for i in record.items] == ["passed", "passed", "errored", "not_run", "not_run"]
    assert record.items[2].error.startswith("KeyboardInterrupt")


def test_crashed_worker_is_recorded_as_errored(project, qa):
    qa(rows(8, {3: "die"}))
    result = project.run_subprocess("--dataset=qa.jsonl", "--target=faulty", "-n", "2")
    assert result.ret == 1
    record = project.last_run()
    assert record.status == "partial"
    crashed = record.items[3]
    assert crashed.status == "errored" and "crashed" in crashed.error
    assert record.counts.passed == 7


def interrupt(project, args, ready):
    """Start pytest in its own process group, wait until ``ready(calls)``, then Ctrl-C the group."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--dataset=qa.jsonl", "-p", "no:cacheprovider", *args],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_default_signals,
    )
    deadline = time.monotonic() + 30
    while not ready(project.calls()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # let the reports of finished rows reach the controller
    os.killpg(proc.pid, signal.SIGINT)
    # every hanging row sleeps 30 s: finishing well before that means nothing waited for them
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out.decode()
    return project.last_run()


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_ctrl_c_to_the_process_group_writes_a_partial_run(project, qa, extra):
    qa(rows(40, {5: "hang"}))
    record = interrupt(project, ["--target=faulty", *extra], lambda calls: "hang" in calls)
    assert record.status == "partial"
    statuses = [i.status for i in record.items]
    assert statuses.count("passed") >= 3
    assert "not_run" in statuses
    assert len(statuses) == 40
    assert json.loads((project.path / ".datasetrun" / "runs.json").read_text())  # a valid store


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_ctrl_c_cancels_work_in_flight(project, qa, extra):
    """With --max-concurrency, Ctrl-C must not wait for rows that are still running."""
    qa(rows(40, dict.fromkeys(range(4, 40), "hang")))
    record = interrupt(
        project,
        ["--target=faulty", "--max-concurrency=8", *extra],
        lambda calls: calls.count("hang") >= 4,
    )
    assert record.status == "partial" and record.counts.selected == 40 and record.counts.not_run > 0
