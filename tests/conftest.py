from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

# A conftest for the projects the tests create: a few targets and scorers that log every call.
PROJECT_CONFTEST = r"""
import asyncio
import json
import os
import time

import pytest
import pytest_datasetrun as dr

LOG = os.path.join(os.path.dirname(__file__), "calls.log")


def log(value):
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(value) + "\n")


@dr.target(id="echo", name="Echo agent")
def echo(input):
    log(input)
    if isinstance(input, str) and input.startswith("raise"):
        raise ValueError("target exploded on " + input)
    return input


@dr.target(id="upper", scorers=["exact_match>=1"])
def upper(input):
    log(input)
    return str(input).upper()


@dr.target(id="slow")
def slow(input):
    log(input)
    time.sleep(float(os.environ.get("DR_SLEEP", "0.2")))
    return input


@dr.target(id="aslow")
async def aslow(input):
    log(input)
    await asyncio.sleep(float(os.environ.get("DR_SLEEP", "0.2")))
    return input


@dr.target(id="faulty")
def faulty(input):
    log(input)
    if input == "stop":
        raise KeyboardInterrupt
    if input == "die":
        os._exit(3)
    if input == "hang":
        time.sleep(30)
    return input


class RateLimitError(Exception):
    pass


@dr.target(id="flaky")
def flaky(input):
    log(input)
    attempts = sum(1 for line in open(LOG) if json.loads(line) == input)
    if attempts <= int(os.environ.get("DR_FAILS", "2")):
        raise RateLimitError(f"attempt {attempts} throttled")
    return input


class LoopBoundClient:
    def __init__(self):
        self.loop = None

    async def ask(self, value):
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        if self.loop is not loop:
            raise RuntimeError("client used from a different event loop")
        await asyncio.sleep(0.01)
        return value


@pytest.fixture(scope="session")
def async_client():
    return LoopBoundClient()


@pytest.fixture
def per_test_thing():
    return 1


@dr.target(id="loopbound")
async def loopbound(input, async_client):
    log(input)
    return await async_client.ask(input)


@dr.target(id="needs_function_fixture")
def needs_function_fixture(input, per_test_thing):
    return input


@dr.target(id="coin")
def coin(input):
    # deterministically nondeterministic: the n-th call for an input answers from a fixed pattern
    log(input)
    calls = sum(1 for line in open(LOG) if json.loads(line) == input)
    pattern = {"always": "1111", "never": "0000", "mostly": "1101", "rarely": "0100"}[input]
    return "yes" if pattern[(calls - 1) % 4] == "1" else "no"


_INFLIGHT = {"now": 0}
_INFLIGHT_LOCK = __import__("threading").Lock()


@dr.target(id="inflight")
def inflight(input):
    with _INFLIGHT_LOCK:
        _INFLIGHT["now"] += 1
        now = _INFLIGHT["now"]
    log({"input": input, "inflight": now, "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")})
    time.sleep(0.2)
    with _INFLIGHT_LOCK:
        _INFLIGHT["now"] -= 1
    return input


@dr.scorer(id="length_ok", threshold=0.5)
def length_ok(output, expected):
    return len(str(output)) >= len(str(expected or ""))


@dr.scorer(id="boom")
def boom(output):
    raise RuntimeError("scorer exploded")


@dr.scorer(id="nan")
def nan(output):
    return float("nan")
"""


def rows_to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


class Project:
    """A pytester project with the conftest above and helpers to write datasets and read results."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path
        pytester.makeconftest(PROJECT_CONFTEST)
        pytester.makeini("[pytest]\nconsole_output_style = classic\n")

    def dataset(self, rows: list[dict[str, Any]], name: str = "qa.jsonl") -> Path:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rows_to_jsonl(rows), encoding="utf-8")
        return path

    def run(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest(*args)

    def run_subprocess(self, *args: str, timeout: float = 180) -> pytest.RunResult:
        # A safety net against a hang, not a speed check: a loaded 2-core runner needs > 60 s.
        return self.pytester.runpytest_subprocess(*args, timeout=timeout)

    def calls(self) -> list[Any]:
        log = self.path / "calls.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    def runs(self) -> list[dict[str, Any]]:
        store = self.path / ".datasetrun" / "runs.json"
        if not store.exists():
            return []
        return list(json.loads(store.read_text(encoding="utf-8")).get("runs", {}).values())

    def last_run(self) -> Any:
        from pytest_datasetrun.store.runstore import open_store

        store = open_store(self.path / ".datasetrun" / "runs.json")
        return store.get("latest")


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # pytest-randomly (in the test extra) would shuffle and reseed every session started here;
    # tests/hardening/test_run_coexist.py turns it back on with `-p randomly`.
    # LangSmith's plugin (with langchain-core) and Hypothesis's (test extra) cost ~1 s of CPU each
    # in every new process, an xdist worker too, and take no part in these sessions:
    # test_run_coexist.py runs beside both and test_tag_markers.py turns LangSmith's back on.
    monkeypatch.setenv("PYTEST_ADDOPTS", " ".join(f"-p no:{name}" for name in UNINVOLVED_PLUGINS))
    return pytester


# Installed plugins left out of the sessions started here unless a test turns one back on.
UNINVOLVED_PLUGINS = ("randomly", "langsmith_plugin", "hypothesispytest")


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    return Project(pytester)


@pytest.fixture(params=[[], ["-n", "2"]], ids=["serial", "xdist"])
def mode(request: pytest.FixtureRequest) -> list[str]:
    return list(request.param)


QA_ROWS = [
    {"id": "q1", "input": "hello", "expected": "hello", "tags": ["greeting"]},
    {"id": "q2", "input": "bye", "expected": "bye", "tags": ["farewell"]},
    {"id": "q3", "input": "raise-me", "expected": "x"},
    {"id": "q4", "input": "what", "expected": "other", "tags": ["greeting"]},
]


@pytest.fixture
def qa(project: Project) -> Callable[..., Path]:
    def make(rows: list[dict[str, Any]] | None = None, name: str = "qa.jsonl") -> Path:
        return project.dataset(rows if rows is not None else QA_ROWS, name)

    return make
