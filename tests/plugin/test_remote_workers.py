"""xdist workers that are separate interpreters (``--tx popen//python=``, ``--tx socket=``) give
the same record as a serial run, and a lost remote worker is handled like a crashed local one."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import execnet
import pytest

SOCKET_SERVER = Path(execnet.__file__).parent / "script" / "socketserver.py"
ROWS = [
    {"id": f"r{i:02d}", "input": f"v{i}", "expected": f"v{i}" if i % 3 else "other"}
    for i in range(12)
] + [{"id": "boom", "input": "raise-me"}]
WHOAMI = """

@dr.target(id="whoami")
def whoami(input):
    log({"input": input, "pid": os.getpid()})
    time.sleep(0.3)
    return input
"""


# The socket worker (DR_LOST is set in its server's process only) is lost at a chosen moment.
LOSS = """

LOST = os.environ.get("DR_LOST", "")
HERE = os.path.dirname(__file__)
CONCURRENCY = {concurrency}


def pytest_collection_modifyitems(config, items):
    if LOST == "in-collection":
        os._exit(7)  # gone before its worker sent its collection


FIRST = []  # the input of this worker's first row


def pytest_runtest_logstart(nodeid, location):
    if not FIRST:
        FIRST.append("v" + str(int(nodeid[-2:])))


def pytest_sessionfinish(session):
    if os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
        open(os.path.join(HERE, "gw1-done"), "w").close()


def wait_for(condition):
    deadline = time.monotonic() + 60
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def socket_calls():
    with open(LOG) as fh:
        return sum(1 for line in fh if json.loads(line)["socket"])


@dr.target(id="held")
def held(input):
    log({{"input": input, "socket": bool(LOST)}})
    if LOST != "holding":
        # the popen worker starts once the socket worker holds a row it has not started: with
        # --max-concurrency 2 that is after its first row came back and it was sent two more
        wait_for(lambda: socket_calls() >= (1 if CONCURRENCY == 1 else 3))
        return input
    if CONCURRENCY > 1 and input == FIRST[0]:
        return input  # its first row comes back, and it is sent two more
    wait_for(lambda: os.path.exists(os.path.join(HERE, "gw1-done")))
    os._exit(7)  # lost after the popen worker was told to stop and finished
"""


def verdicts(record) -> list[tuple]:
    return [
        (i.item_id, i.status, i.error, [(s.id, s.value, s.passed) for s in i.scores])
        for i in record.items
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def socket_server(project, **env):
    """An execnet socket server on loopback, run by this interpreter: one remote worker.

    ``env`` is set in the server's process only, that is for the socket worker and not the others.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(SOCKET_SERVER), f"127.0.0.1:{port}"], cwd=project.path,
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert "Entering Accept loop" in server.stdout.readline()
        yield server, f"socket=127.0.0.1:{port}//chdir={project.path}"
    finally:
        server.kill()
        server.communicate(timeout=10)


@pytest.fixture
def socket_worker(project):
    with socket_server(project) as worker:
        yield worker


def run_guarded(project, *args: str, timeout: float = 180) -> tuple[int, str]:
    """A session in a subprocess, killed if it hangs (a hung one must not outlive the test)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        out = proc.communicate(timeout=timeout)[0].decode()  # loaded runners are slow
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the session hung: {proc.communicate()[0].decode()}")
    return proc.returncode, out


def serial_record(project):
    assert project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1").ret == 1
    return project.last_run()


def test_popen_python_workers_give_the_serial_record(project, qa):
    qa(ROWS)
    serial = serial_record(project)
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1",
        "--dist=load", f"--tx=2*popen//python={sys.executable}",
    )  # fmt: skip
    assert result.ret == 1
    remote = project.last_run()
    assert remote.run_id != serial.run_id and remote.status == "completed"
    assert verdicts(remote) == verdicts(serial)
    assert {i.worker for i in remote.items} <= {"gw0", "gw1"}
    assert remote.aggregates == serial.aggregates


def test_socket_worker_gives_the_serial_record(project, qa, socket_worker):
    qa(ROWS)
    serial = serial_record(project)
    _, spec = socket_worker
    result = project.run(
        "--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", "--dist=load",
        f"--tx={spec}", f"--tx=popen//python={sys.executable}", "--max-concurrency=2",
    )  # fmt: skip
    assert result.ret == 1, result.stdout.str()
    remote = project.last_run()
    assert verdicts(remote) == verdicts(serial)
    assert "gw0" in {i.worker for i in remote.items}  # the socket worker did run rows
    # the store is written by the controller only, in the directory pytest ran from
    assert sorted(p.name for p in (project.path / ".datasetrun").iterdir()) == [
        "runs.items", "runs.json", "runs.json.lock"
    ]  # fmt: skip


@pytest.mark.parametrize("concurrency", ["1", "2"])
def test_lost_socket_worker_is_handled_like_a_crashed_local_one(
    project, qa, socket_worker, concurrency
):
    qa([{"id": f"r{i:02d}", "input": f"v{i}"} for i in range(12)])
    with open(project.path / "conftest.py", "a") as conftest:
        conftest.write(WHOAMI)
    server, spec = socket_worker
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--dataset=qa.jsonl",
         "--target=whoami", "--dist=load", f"--tx={spec}", f"--tx=popen//python={sys.executable}",
         f"--max-concurrency={concurrency}"],
        cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # the kill lands while the socket worker runs a row (the earlier moments have their own
        # tests below); a loaded runner may take long to get there
        deadline = time.monotonic() + 120
        while not any(c["pid"] == server.pid for c in project.calls()):
            assert time.monotonic() < deadline and proc.poll() is None, "no row ran on gw0"
            time.sleep(0.05)
        server.kill()  # the remote host is gone
        out = proc.communicate(timeout=180)[0].decode()  # a hang guard; loaded runners are slow
    finally:
        proc.kill()  # a hung session must not outlive the test (one ran on for 49 min)
    assert proc.returncode == 1, out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    record = project.last_run()
    lost = [i for i in record.items if i.status == "errored"]
    assert 1 <= len(lost) <= int(concurrency)
    assert all("crashed" in i.error for i in lost)
    assert record.counts.passed == 12 - len(lost) and record.counts.not_run == 0
    calls = [c["input"] for c in project.calls()]
    assert all(calls.count(f"v{i}") == 1 for i in range(12) if f"r{i:02d}" not in {
        i.item_id for i in lost
    })  # fmt: skip
    assert json.loads((project.path / ".datasetrun" / "runs.json").read_text())


def run_losing_the_socket_worker(
    project, qa, concurrency: str, when: str, target: str
) -> tuple[int, str]:
    """12 rows on a socket worker (lost ``when``: see LOSS) and a popen worker, under a hang guard."""
    qa([{"id": f"r{i:02d}", "input": f"v{i}"} for i in range(12)])
    with open(project.path / "conftest.py", "a") as conftest:
        conftest.write(LOSS.format(concurrency=concurrency))
    with socket_server(project, DR_LOST=when) as (_, spec):
        return run_guarded(
            project, "--dataset=qa.jsonl", f"--target={target}", "--dist=load", f"--tx={spec}",
            f"--tx=popen//python={sys.executable}", f"--max-concurrency={concurrency}",
        )  # fmt: skip


@pytest.mark.parametrize("concurrency", ["1", "2"])
def test_socket_worker_lost_before_its_collection_leaves_the_run_to_the_others(
    project, qa, concurrency
):
    # xdist schedules once every --tx worker sent its collection; one that is lost first and
    # cannot be replaced never sends it, and the session hung beside its idle popen worker.
    ret, out = run_losing_the_socket_worker(project, qa, concurrency, "in-collection", "echo")
    assert ret == 0, out
    assert "cannot replace lost worker gw0" in out and "INTERNALERROR" not in out
    record = project.last_run()
    assert record.counts.passed == 12 and record.counts.not_run == 0
    assert {i.worker for i in record.items} == {"gw1"}


@pytest.mark.parametrize("concurrency", ["1", "2"])
def test_rows_a_lost_socket_worker_had_not_started_when_the_others_were_stopping_are_not_run(
    project, qa, concurrency
):
    # The popen worker empties the queue, is told to stop and finishes; then the socket worker
    # is lost holding a row it had not started. Nobody can take that row: the run ends with it
    # not run (it was an INTERNALERROR, "Unexpectedly no active workers available").
    ret, out = run_losing_the_socket_worker(project, qa, concurrency, "holding", "held")
    assert ret == 1, out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert "1 row(s) that gw0 had not started are not run" in out
    record = project.last_run()
    lost = [i for i in record.items if i.status == "errored"]
    assert len(lost) == int(concurrency) and all("crashed" in i.error for i in lost)
    assert record.counts.not_run == 1 and record.counts.passed == 11 - int(concurrency)
    calls = [c["input"] for c in project.calls()]
    assert len(calls) == len(set(calls)) == 12 - 1  # no row ran twice; the unstarted one never
