"""The run record written at session end: contents, -n 2 parity, environment, concurrent sessions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ROWS = [
    {
        "id": f"r{i:02d}",
        "input": f"v{i}" if i % 5 else f"raise{i}",
        "expected": f"v{i}",
        "tags": ["t"],
    }
    for i in range(25)
]
TIMING = {"duration_s", "started_at", "finished_at", "target_duration_s", "worker"}


def comparable(record):
    data = record.model_dump(mode="json")
    items = [{k: v for k, v in item.items() if k not in TIMING} for item in data["items"]]
    for item in items:
        for score in item["scores"]:
            score.pop("duration_s")
    return (
        data["counts"],
        data["aggregates"],
        data["scorers"],
        data["target"],
        data["datasets"],
        items,
    )


def test_xdist_record_equals_serial_record(project, qa):
    qa(ROWS)
    args = ("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", "--scorer=length_ok")
    project.run(*args)
    serial = project.last_run()
    project.run(*args, "-n", "2")
    parallel = project.last_run()
    assert comparable(serial) == comparable(parallel)
    assert serial.environment.workers == 0 and parallel.environment.workers == 2
    assert {i.worker for i in parallel.items} <= {"gw0", "gw1"} and all(
        i.worker for i in parallel.items
    )
    assert serial.status == parallel.status == "completed"
    assert serial.counts.errored == 5 and serial.counts.passed == 20


def test_record_fields(project, qa):
    qa(ROWS[:3])
    project.pytester.run("git", "init", "-q")
    project.pytester.run(
        "git",
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=n",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    project.run(
        "--dataset=qa.jsonl",
        "--target=echo",
        "--scorer=exact_match>=1",
        "--run-name=nightly",
        "--max-retries=1",
    )
    record = project.last_run()
    assert record.name == "nightly" and record.run_id < record.run_id + "z"
    assert record.target.model_dump() == {
        "id": "echo",
        "name": "Echo agent",
        "kind": "callable",
        "version": "",
    }
    assert [s.model_dump() for s in record.scorers] == [
        {"id": "exact_match", "name": "exact_match", "threshold": 1.0, "params": {}}
    ]
    assert record.options["max_retries"] == 1 and record.options["scorers"] == ["exact_match>=1"]
    dataset = record.datasets[0]
    assert (dataset.path, dataset.name, dataset.total, dataset.selected, len(dataset.sha256)) == (
        "qa.jsonl",
        "qa",
        3,
        3,
        64,
    )
    env = record.environment
    assert len(env.git_commit) == 40 and env.git_dirty is False and env.git_branch
    assert env.python and env.pytest and env.plugin and env.platform
    assert all(s.source == "TEST" for i in record.items for s in i.scores)
    assert record.finished_at >= record.started_at and record.duration_s > 0


def test_no_run_store_and_custom_store(project, qa):
    qa(ROWS[:2])
    project.run("--dataset=qa.jsonl", "--target=echo", "--no-run-store")
    assert not (project.path / ".datasetrun").exists()
    project.run("--dataset=qa.jsonl", "--target=echo", "--run-store=out/store.json")
    assert (project.path / "out" / "store.json").exists()


def test_unreadable_store_is_never_overwritten(project, qa):
    qa(ROWS[:2])
    store = project.path / ".datasetrun" / "runs.json"
    store.parent.mkdir()
    store.write_text("{not json")
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert store.read_text() == "{not json"
    result.stdout.fnmatch_lines(
        [
            "*ERROR: the run store *runs.json cannot be read*this run was written to *runs.recovered-*.json instead*"
        ]
    )
    recovered = list(store.parent.glob("runs.recovered-*.json"))
    assert len(recovered) == 1 and json.loads(recovered[0].read_text())["runs"]


def test_four_concurrent_sessions_lose_no_run(project, qa):
    qa(ROWS)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pytest",
                "--dataset=qa.jsonl",
                "--target=echo",
                f"--run-name=s{n}",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=project.path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(5)
    ]
    assert [p.wait(timeout=120) for p in procs] == [1] * 5
    from pytest_datasetrun.store.runstore import open_store

    store = open_store(project.path / ".datasetrun" / "runs.json")
    runs = store.runs()
    assert sorted(r.name for r in runs) == ["s0", "s1", "s2", "s3", "s4"]
    assert all(len(store.get(r.run_id).items) == 25 for r in runs)


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_skipped_and_setup_errors_are_recorded(project, qa, extra):
    qa(ROWS[:4])
    (project.path / "conftest.py").write_text(
        (project.path / "conftest.py").read_text()
        + "\n\n@pytest.fixture(autouse=True)\ndef _gate(request):\n"
        + "    if request.node.name == 'r01':\n        pytest.skip('not today')\n"
        + "    if request.node.name == 'r02':\n        raise RuntimeError('setup broke')\n"
    )
    project.run("--dataset=qa.jsonl", "--target=echo", *extra)
    record = project.last_run()
    assert [i.status for i in record.items] == ["errored", "skipped", "errored", "passed"]
    assert "setup broke" in record.items[2].error
    assert record.counts.skipped == 1 and record.status == "completed"
