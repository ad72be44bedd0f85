"""Faults while a run is evaluated or stored: exit status, one clear message, no traceback,
and the runs already in the store stay as they were (issue 11: a run is never silently lost)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from pytest_datasetrun.plugin.finish import RUN_NOT_STORED
from pytest_datasetrun.store.runstore import open_store


def unsaved(directory: Path) -> list[Path]:
    return sorted(directory.glob("datasetrun-unsaved-*.json"))


def assert_fallback(path: Path, rows: int = 4) -> None:
    record = open_store(path).get(str(path))
    assert record.counts.selected == rows and len(record.items) == rows
    assert record.exit_status == RUN_NOT_STORED


# -- the store cannot take the run -------------------------------------------------------------


def test_store_whose_parent_is_a_file(project, qa, earlier, snapshot, clean):
    (project.path / "blocker").write_text("not a directory")
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--run-store=blocker/runs.json")
    out = clean(result, code=RUN_NOT_STORED)
    assert "was not stored" in out and "blocker" in out
    (saved,) = unsaved(project.path)
    assert f"saved to {saved.name}" in out
    assert_fallback(saved)
    assert snapshot() == earlier


@pytest.fixture
def held_lock(project):
    """Another process holds the store lock until the test ends."""
    lock = project.path / ".datasetrun" / "runs.json.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import filelock, sys, time\n"
         f"lock = filelock.FileLock({str(lock)!r}); lock.acquire(); print('held', flush=True)\n"
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    yield
    holder.communicate("", timeout=10)


def test_lock_held_past_the_wait(project, earlier, held_lock, monkeypatch, mode, snapshot, clean):
    monkeypatch.setenv("DATASETRUN_LOCK_TIMEOUT", "0.3")
    result = project.run("--dataset=qa.jsonl", "--target=echo", *mode)
    out = clean(result, code=RUN_NOT_STORED)
    assert "is locked: another process held" in out and "more than 0.3 s" in out
    (saved,) = unsaved(project.path / ".datasetrun")
    assert_fallback(saved)
    assert {k: v for k, v in snapshot().items() if "unsaved" not in k} == earlier


def test_failed_rows_and_a_lost_store_still_exit_with_the_store_code(
    project, qa, earlier, held_lock, monkeypatch, clean
):
    qa(
        [
            *(json.loads(line) for line in (project.path / "qa.jsonl").open()),
            {"id": "bad", "input": "raise-me"},
        ]
    )
    monkeypatch.setenv("DATASETRUN_LOCK_TIMEOUT", "0")
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    clean(result, code=RUN_NOT_STORED)
    (saved,) = unsaved(project.path / ".datasetrun")
    assert_fallback(saved, rows=5)


def test_disk_full_leaves_no_orphan_items_or_temp_file(
    project, earlier, monkeypatch, snapshot, clean
):
    store_dir = project.path / ".datasetrun"
    real_replace = os.replace

    def full_disk(src, dst, *args, **kwargs):
        if Path(dst).parent.is_relative_to(store_dir):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", full_disk)
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    monkeypatch.undo()
    out = clean(result, code=RUN_NOT_STORED)
    assert "No space left on device" in out
    assert snapshot() == earlier  # no orphan items file, no temp file
    (saved,) = unsaved(project.path)
    assert_fallback(saved)


def test_disk_full_after_the_items_file_removes_it(project, earlier, monkeypatch, snapshot, clean):
    """The items file was written, the index was not: the items file must not stay behind."""
    index = project.path / ".datasetrun" / "runs.json"
    real_replace, real_fsync, inode = os.replace, os.fsync, index.stat().st_ino
    before = index.read_bytes()

    def full_at_index(src, dst, *args, **kwargs):
        if Path(dst) == index:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *args, **kwargs)

    def full_at_index_append(fd):  # a new run is appended to the index in place (#15)
        if os.fstat(fd).st_ino == inode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "replace", full_at_index)
    monkeypatch.setattr(os, "fsync", full_at_index_append)
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    monkeypatch.undo()
    clean(result, code=RUN_NOT_STORED)
    assert index.read_bytes() == before
    assert snapshot() == {
        **earlier,
        **{k: v for k, v in snapshot().items() if "unsaved" in k},
    }


def test_no_run_store_is_not_a_store_failure(project, earlier, qa, snapshot, clean):
    (project.path / "blocker").write_text("x")
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--no-run-store")
    clean(result, code=0)
    assert unsaved(project.path) == [] and snapshot() == earlier


def test_the_fallback_file_is_a_baseline(project, qa, earlier, clean):
    (project.path / "blocker").write_text("x")
    project.run("--dataset=qa.jsonl", "--target=echo", "--run-store=blocker/runs.json")
    (saved,) = unsaved(project.path)
    result = project.run("--dataset=qa.jsonl", "--target=echo", f"--baseline={saved}")
    clean(result, code=0)
    assert json.loads((project.path / ".datasetrun" / "runs.json").read_text())["runs"]


# -- signals -----------------------------------------------------------------------------------


def rows(n: int, special: dict[int, str]) -> list[dict]:
    out = [{"id": f"r{i:02d}", "input": f"v{i}"} for i in range(n)]
    for index, value in special.items():
        out[index]["input"] = value
    return out


def _default_hup() -> None:
    # A suite started under nohup passes an ignored SIGHUP on; the plugin rightly leaves an
    # ignored signal ignored, so the session under test gets the default disposition back.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def send_signal(project, args, ready, signum, *, group: bool = True):
    """Start pytest in its own session, wait until ``ready(calls)``, signal it; return its output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--dataset=qa.jsonl", "-p", "no:cacheprovider", *args],
        cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=_default_hup,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not ready(project.calls()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # let the reports of finished rows reach the controller
    if group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    # every hanging row sleeps 30 s: finishing well before that means nothing waited for them
    out, _ = proc.communicate(timeout=20)
    return proc.returncode, out.decode()


STOPS = [
    pytest.param(signal.SIGTERM, [], True, id="sigterm-serial"),
    pytest.param(signal.SIGHUP, [], True, id="sighup-serial"),
    pytest.param(signal.SIGTERM, ["-n", "2"], True, id="sigterm-xdist-group"),
    pytest.param(signal.SIGHUP, ["-n", "2"], True, id="sighup-xdist-group"),
    pytest.param(signal.SIGTERM, ["-n", "2"], False, id="sigterm-xdist-controller-only"),
    pytest.param(signal.SIGTERM, ["-n", "2", "--max-concurrency=4"], False, id="sigterm-window"),
]


@pytest.mark.parametrize(("signum", "extra", "group"), STOPS)
def test_stop_signal_stores_a_partial_run(project, qa, earlier, signum, extra, group, kept):
    qa(rows(40, {5: "hang", 25: "hang"}))
    code, out = send_signal(
        project, ["--target=faulty", *extra], lambda calls: "hang" in calls, signum, group=group
    )
    assert code == pytest.ExitCode.INTERRUPTED, out
    assert f"{signal.Signals(signum).name} received" in out
    assert "INTERNALERROR" not in out and "cannot send" not in out, out
    record = project.last_run()
    assert record.status == "partial" and record.counts.selected == 40
    statuses = [item.status for item in record.items]
    assert statuses.count("passed") >= 3 and "not_run" in statuses
    kept()


# -- workers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", ["1", "3"])
def test_worker_crash_runs_the_crashing_row_once(project, qa, earlier, concurrency, kept, clean):
    qa(rows(16, {3: "die"}))
    result = project.run_subprocess(
        "--dataset=qa.jsonl", "--target=faulty", "-n", "2", f"--max-concurrency={concurrency}"
    )
    out = clean(result, code=1)
    assert project.calls().count("die") == 1, out
    record = project.last_run()
    assert record.status == "partial" and record.counts.selected == 16
    errored = [item for item in record.items if item.status == "errored"]
    assert "r03" in [item.item_id for item in errored]
    assert len(errored) <= int(concurrency)  # only the rows in flight on the dead worker
    assert all("crashed" in item.error for item in errored)
    assert record.counts.passed == 16 - len(errored) and record.counts.not_run == 0
    # a row that was not lost ran exactly once; a lost row at most once
    calls = Counter(project.calls())
    lost = {item.input for item in errored}
    assert all(calls[f"v{i}"] == 1 for i in range(16) if f"v{i}" not in lost | {"v3"})
    assert all(calls[value] <= 1 for value in lost)
    kept()


def test_two_crashing_rows_and_no_internal_error(project, qa, earlier, clean):
    qa(rows(30, {2: "die", 9: "die", 17: "die"}))
    result = project.run_subprocess(
        "--dataset=qa.jsonl", "--target=faulty", "-n", "2", "--max-concurrency=3"
    )
    out = clean(result, code=1)
    assert "cannot send" not in out
    # No crashing row is called twice. A dead worker loses the rows it may have started (its
    # --max-concurrency window), so under load a third "die" row can be lost with the worker
    # that ran the second one, before its own call: 2 calls, never 4 or more.
    assert 1 <= project.calls().count("die") <= 3
    record = project.last_run()
    assert record.counts.selected == 30 and record.counts.not_run == 0
    assert record.counts.errored <= 9


# -- targets and scorers -----------------------------------------------------------------------

ODD = """

@dr.target(id="odd")
def odd(input):
    return object() if input == "object" else {1, 2} if input == "set" else input
"""


@pytest.mark.parametrize(
    ("target", "special", "scorer", "status", "error"),
    [
        pytest.param("echo", "raise-me", [], "errored", "target exploded", id="target-raises"),
        pytest.param("faulty", "hang", ["--item-timeout=0.5"], "errored", "timed out",
                     id="target-hangs"),
        pytest.param("echo", "v", ["--scorer=boom"], "errored", "scorer exploded",
                     id="scorer-raises"),
        pytest.param("odd", "object", [], "passed", None, id="output-not-json"),
        pytest.param("odd", "set", [], "passed", None, id="output-a-set"),
    ],
)  # fmt: skip
def test_a_faulty_row_does_not_stop_its_siblings(
    project, qa, earlier, kept, clean, mode, target, special, scorer, status, error
):
    with open(project.path / "conftest.py", "a") as conftest:
        conftest.write(ODD)
    qa([{"id": "a", "input": "v1"}, {"id": "bad", "input": special}, {"id": "b", "input": "v2"}])
    result = project.run("--dataset=qa.jsonl", f"--target={target}", *scorer, *mode)
    clean(result, code=0 if status == "passed" and not scorer else 1)
    record = project.last_run()
    bad = record.items[1]
    assert bad.status == status
    texts = [bad.error or "", *(s.error or "" for s in bad.scores)]
    assert error is None or any(error in text for text in texts), texts
    assert record.counts.selected == 3 and record.counts.not_run == 0
    assert record.status == "completed"
    kept()


def test_a_nan_score_is_recorded_as_an_error_not_a_number(project, qa, earlier, kept, clean):
    qa([{"id": "a", "input": "v1"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=nan")
    clean(result, code=1)
    (score,) = project.last_run().items[0].scores
    assert score.value is None and score.error
    kept()
