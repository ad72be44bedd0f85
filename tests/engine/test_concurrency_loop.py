"""An async target under --max-concurrency: its calls are tasks on the loop, its records unchanged."""

from __future__ import annotations

import collections
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


ASYNC_TARGETS = """

@dr.target(id="anap")
async def anap(input):
    log(input)
    if input.startswith("raise"):
        raise ValueError("target exploded on " + input)
    await asyncio.sleep(30 if input == "hang" else 0.05)
    return input


@dr.target(id="astop")
async def astop(input):
    log(input)
    await asyncio.sleep(0.01)
    if input == "stop":
        raise KeyboardInterrupt
    return input


@dr.target(id="aflaky")
async def aflaky(input):
    log(input)
    attempts = sum(1 for line in open(LOG) if json.loads(line) == input)
    await asyncio.sleep(0.01)
    if attempts <= 2:
        raise RateLimitError(f"attempt {attempts} throttled")
    return input
"""


@pytest.fixture
def async_project(project):
    conftest = project.path / "conftest.py"
    conftest.write_text(conftest.read_text() + ASYNC_TARGETS)
    return project


def rows(n, special=None):
    out = [{"id": f"r{i:02d}", "input": f"v{i}", "expected": f"v{i}"} for i in range(n)]
    for index, value in (special or {}).items():
        out[index]["input"] = value
    return out


def _fields(item):
    scores = [(s.id, s.value, s.passed, s.error) for s in item.scores]
    return (item.item_id, item.status, item.output, item.error, item.attempts, scores)


def test_async_rows_record_the_same_as_inline(async_project, qa, mode):
    project = async_project
    qa(rows(24, {3: "raise-3", 7: "hang"}))
    args = ["--dataset=qa.jsonl", "--target=anap", "--scorer=exact_match>=1", "--item-timeout=1"]
    project.run(*args, "--max-concurrency=1", *mode).assert_outcomes(passed=22, errors=2)
    inline = project.last_run()
    project.run(*args, "--max-concurrency=8", *mode).assert_outcomes(passed=22, errors=2)
    prefetched = project.last_run()
    assert [_fields(i) for i in prefetched.items] == [_fields(i) for i in inline.items]
    hang = prefetched.items[7]
    assert hang.error == "TargetTimeout: timed out after 1 s"
    for item in prefetched.items:
        if item.status == "passed":
            assert item.target_duration_s >= 0.05
            assert item.duration_s >= item.target_duration_s
    # every row called once per run, the timed-out one included
    assert set(collections.Counter(project.calls()).values()) == {2}


def test_async_retries_and_repeats_under_concurrency(async_project, qa):
    project = async_project
    qa(rows(6))
    result = project.run(
        "--dataset=qa.jsonl", "--target=aflaky", "--max-retries=3", "--max-concurrency=4"
    )
    result.assert_outcomes(passed=6)
    assert [i.attempts for i in project.last_run().items] == [3] * 6
    assert collections.Counter(project.calls()) == {f"v{i}": 3 for i in range(6)}
    # the first call runs on the loop, the second repeat from the row's scoring thread
    result = project.run("--dataset=qa.jsonl", "--target=anap", "--repeat=2", "--max-concurrency=4")
    result.assert_outcomes(passed=6)
    assert [len(i.repeats) for i in project.last_run().items] == [2] * 6


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_ctrl_c_does_not_wait_for_async_calls_in_flight(async_project, qa, extra):
    project = async_project
    qa(rows(40, dict.fromkeys(range(4, 40), "hang")))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--dataset=qa.jsonl", "-p", "no:cacheprovider"]
        + ["--target=anap", "--max-concurrency=8", *extra],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_default_signals,
    )
    deadline = time.monotonic() + 30
    while project.calls().count("hang") < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    # every hanging call sleeps 30 s: finishing well before that means nothing waited for them
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out.decode()
    record = project.last_run()
    assert record.status == "partial" and record.counts.not_run > 0
    assert [i.status for i in record.items[:4]] == ["passed"] * 4


@pytest.mark.parametrize("concurrency", ["1", "4"], ids=["inline", "prefetch"])
def test_keyboard_interrupt_inside_an_async_target(async_project, qa, concurrency):
    """Raised on the loop, it used to stop the loop thread and leave the session waiting forever."""
    project = async_project
    qa(rows(5, {2: "stop"}))
    result = project.run_subprocess(
        "--dataset=qa.jsonl", "--target=astop", f"--max-concurrency={concurrency}"
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    record = project.last_run()
    assert record.status == "partial"
    assert [i.status for i in record.items[:3]] == ["passed", "passed", "errored"]
    assert record.items[2].error.startswith("KeyboardInterrupt")
