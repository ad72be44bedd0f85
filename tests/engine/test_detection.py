"""Target detection, output rules, statuses, factories and non-targets (no framework needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_datasetrun.engine.targets import NotATarget, Target, as_target

CONFTEST = r"""
import itertools
import pytest_datasetrun as dr


class Workflow:
    def run(self, value):
        return {"status": value, "result": f"done:{value}", "error": "why" if value == "error" else None}


class Both:
    '''Like a LangChain chat model: a legacy generate() beside invoke().'''

    def generate(self, value):
        return "generate"

    def invoke(self, value):
        return "invoke"


class Opaque:
    def __repr__(self):
        return "<Opaque at 0x1>"


class Reply:
    def __init__(self, text):
        self.answer = {"text": text}


class Counter:
    made = itertools.count()

    def __init__(self):
        self.number = next(Counter.made)
        self.calls = 0

    def invoke(self, value):
        self.calls += 1
        return f"{value}:{self.calls}"


workflow = dr.target(Workflow(), id="workflow")
both = dr.target(Both(), id="both")
not_a_target = dr.target(42, id="number")
fresh = dr.target(factory=Counter, id="fresh")
by_path = dr.target(lambda value: Reply(value), id="by_path", output="answer.text")
by_callable = dr.target(lambda value: Reply(value), id="by_callable", output=lambda r: r.answer["text"].upper())
by_method = dr.target(Both(), id="by_method", method="generate")


@dr.target(id="opaque")
def opaque(value):
    return Opaque()
"""


@pytest.fixture
def project(pytester):
    pytester.makeconftest(CONFTEST)
    return pytester


def run(pytester, target, rows, *args):
    (pytester.path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = pytester.runpytest(
        "--dataset=d.jsonl", f"--target={target}", "--run-store=runs.json", *args
    )
    from pytest_datasetrun.store.runstore import open_store

    store = pytester.path / "runs.json"
    return result, open_store(store).get("latest") if store.exists() else None


@pytest.mark.parametrize("status", ["success", "completed", "ok", "OK", "done", "succeeded"])
def test_success_statuses_yield_the_result(project, status):
    result, record = run(project, "workflow", [{"id": "a", "input": status}])
    result.assert_outcomes(passed=1)
    assert record.items[0].output == f"done:{status}"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("error", "workflow ended with status 'error': why"),
        ("cancelled", "workflow ended with status 'cancelled'"),
        ("canceled", "workflow ended with status 'canceled'"),
        ("timeout", "workflow ended with status 'timeout'"),
        ("tripwire", "workflow ended with status 'tripwire'"),
    ],
)
def test_failure_statuses_are_errors_naming_the_status(project, status, error):
    result, record = run(project, "workflow", [{"id": "a", "input": status}])
    result.assert_outcomes(errors=1)  # an errored row is a pytest error (#14)
    assert record.items[0].status == "errored"
    assert record.items[0].error == f"TargetStatusError: {error}"


def test_unknown_status_lists_the_understood_ones(project):
    result, record = run(project, "workflow", [{"id": "a", "input": "pending"}])
    result.assert_outcomes(errors=1)
    error = record.items[0].error
    assert "unknown status 'pending'" in error
    assert "success is one of success, succeeded" in error and "errors are failed" in error


def test_runnable_wins_over_legacy_generate(project):
    result, record = run(project, "both", [{"id": "a", "input": "x"}])
    result.assert_outcomes(passed=1)
    assert record.items[0].output == "invoke" and record.target.kind == "runnable"


def test_method_says_it_outright(project):
    _, record = run(project, "by_method", [{"id": "a", "input": "x"}])
    assert record.items[0].output == "generate"


def test_output_rule_as_dotted_path_and_callable(project):
    _, record = run(project, "by_path", [{"id": "a", "input": "x"}])
    assert record.items[0].output == "x"
    assert record.items[0].trace is not None  # the whole result, next to the answer
    _, record = run(project, "by_callable", [{"id": "a", "input": "x"}])
    assert record.items[0].output == "X"


def test_output_that_is_only_a_repr_is_flagged(project):
    _, record = run(project, "opaque", [{"id": "a", "input": "x"}])
    item = record.items[0]
    assert item.output == "<Opaque at 0x1>" and item.output_is_repr is True
    _, record = run(project, "both", [{"id": "a", "input": "x"}])
    assert record.items[0].output_is_repr is False


@pytest.mark.parametrize("concurrency", [[], ["--max-concurrency", "2"]], ids=["serial", "c2"])
def test_factory_builds_a_fresh_object_per_call(project, concurrency):
    rows = [{"id": str(i), "input": f"q{i}"} for i in range(4)]
    result, record = run(project, "fresh", rows, *concurrency)
    result.assert_outcomes(passed=4)
    assert sorted(item.output for item in record.items) == ["q0:1", "q1:1", "q2:1", "q3:1"]


def test_factory_scope_thread_reuses_one_object_per_thread():
    made = []

    class Agent:
        def invoke(self, value):
            made.append(self)
            return value

    made_target = as_target(None, id="t", factory=Agent, factory_scope="thread")
    for value in "abc":
        made_target.call(value, {})
    assert len(set(map(id, made))) == 1


def test_non_target_is_one_line_naming_type_methods_and_fix(project):
    result, _ = run(project, "number", [{"id": "a", "input": "x"}])
    assert result.ret == pytest.ExitCode.INTERRUPTED  # as for an unknown target
    line = (
        "datasetrun: target 'number': an int is not a target: looked for __call__, "
        "ainvoke/invoke, agenerate/generate, arun/run or a known framework type; wrap it in a "
        "function f(input) that calls it, or give dr.target(obj, method='...', output='...')"
    )
    result.stdout.fnmatch_lines([line])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_non_target_by_module_attr(project):
    project.makepyfile(things="class Config:\n    pass\n\nconfig = Config()\n")
    result, _ = run(project, "things:config", [{"id": "a", "input": "x"}])
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*target 'things:config' is a Config (*), not a target: expected a callable, an object*"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_class_instead_of_instance_says_so():
    class Agent:
        def invoke(self, value):
            return value

    with pytest.raises(NotATarget, match="pass an instance, not the class"):
        Target(id="a", name="a", obj=Agent).check()


def _plain_pytest(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `pytest` script, as a user types it: no PYTHONPATH (pytester.run would add the cwd)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = str(Path(sys.executable).parent / "pytest")
    return subprocess.run(
        [script, *args, "-p", "no:cacheprovider"],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_module_attr_under_plain_pytest_without_conftest(pytester):
    """The `pytest` script does not put the current directory on sys.path; the rootdir is used."""
    pytester.makepyfile(myagent="def answer(value):\n    return value + '!'\n")
    (pytester.path / "d.jsonl").write_text(json.dumps({"id": "a", "input": "x"}) + "\n")
    done = _plain_pytest(pytester.path, "--dataset=d.jsonl", "--target=myagent:answer")
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout


def test_module_attr_that_cannot_be_found_gives_a_hint(pytester):
    (pytester.path / "d.jsonl").write_text(json.dumps({"id": "a", "input": "x"}) + "\n")
    done = _plain_pytest(pytester.path, "--dataset=d.jsonl", "--target=nowhere:answer")
    assert done.returncode == pytest.ExitCode.INTERRUPTED
    assert "target 'nowhere:answer': cannot import module 'nowhere'" in done.stdout
    assert "Is it on the import path? Run `python -m pytest`" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
