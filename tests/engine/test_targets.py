"""Targets: registration routes, resolution order, kinds, fixtures, errors."""

from __future__ import annotations

import importlib.metadata

import pytest

KINDS_CONFTEST = r"""
import asyncio
import pytest
import pytest_datasetrun as dr


class Agent:
    def generate(self, value):
        return f"agent:{value}"


class AsyncRunnable:
    async def ainvoke(self, value):
        await asyncio.sleep(0)
        return f"runnable:{value}"


class Workflow:
    def run(self, value):
        if value == "ok":
            return {"status": "success", "result": {"answer": 42}}
        return {"status": value, "error": "guardrail hit" if value == "tripwire" else None}


class Unserialisable:
    def __repr__(self):
        return "<Unserialisable>"


agent = dr.target(Agent(), id="agent")
runnable = dr.target(AsyncRunnable(), id="runnable", name="Async runnable")
workflow = dr.target(Workflow(), id="workflow")


@dr.target(id="weird")
def weird(input):
    return {"obj": Unserialisable(), "set": {1}}


@pytest.fixture(scope="session")
def client():
    client = {"created": 0}
    client["created"] += 1
    with open("fixture.log", "a") as fh:
        fh.write("created\n")
    return client


@dr.target(id="with_fixture")
def with_fixture(input, client, item):
    return f"{input}:{client['created']}:{item.id}"


@pytest.hookimpl(optionalhook=True)
def pytest_datasetrun_targets(config):
    return [dr.Target(id="hooked", name="Hooked target", obj=lambda value: f"hooked:{value}")]
"""


@pytest.fixture
def kinds(pytester):
    pytester.makeconftest(KINDS_CONFTEST)
    return pytester


def run(pytester, target, rows, *args):
    import json

    (pytester.path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = pytester.runpytest(
        "--dataset=d.jsonl", f"--target={target}", "--run-store=runs.json", *args
    )
    from pytest_datasetrun.store.runstore import open_store

    record = (
        open_store(pytester.path / "runs.json").get("latest")
        if (pytester.path / "runs.json").exists()
        else None
    )
    return result, record


@pytest.mark.parametrize(
    ("target", "expected_output", "kind"),
    [
        ("agent", "agent:x", "agent"),
        ("runnable", "runnable:x", "runnable"),
        ("Async runnable", "runnable:x", "runnable"),
        ("hooked", "hooked:x", "callable"),
        ("Hooked target", "hooked:x", "callable"),
    ],
)
def test_target_kinds_and_resolution(kinds, target, expected_output, kind):
    result, record = run(kinds, target, [{"id": "a", "input": "x"}])
    result.assert_outcomes(passed=1)
    assert record.items[0].output == expected_output
    assert record.target.kind == kind


def test_module_attr_reference(kinds):
    kinds.makepyfile(mytargets="def shout(value):\n    return value + '!'\n")
    kinds.syspathinsert()
    result, record = run(kinds, "mytargets:shout", [{"id": "a", "input": "x"}])
    result.assert_outcomes(passed=1)
    assert record.items[0].output == "x!"


def test_workflow_statuses(kinds):
    rows = [{"id": s, "input": s} for s in ["ok", "failed", "tripwire", "suspended", "paused"]]
    result, record = run(kinds, "workflow", rows)
    result.assert_outcomes(passed=1, errors=4)
    assert record.items[0].output == {"answer": 42}
    errors = {i.item_id: i.error for i in record.items[1:]}
    assert (
        errors["tripwire"]
        == "TargetStatusError: workflow ended with status 'tripwire': guardrail hit"
    )
    assert errors["paused"] == "TargetStatusError: workflow ended with status 'paused'"
    assert all(i.status == "errored" for i in record.items[1:])


def test_unknown_target_lists_registered_ones(kinds):
    result, _ = run(kinds, "agnet", [{"id": "a", "input": "x"}])
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*datasetrun: unknown target 'agnet'. Did you mean 'agent'? registered targets: hooked (name: Hooked target), agent, *"
        ]
    )
    assert not (kinds.path / "runs.json").exists()
    assert "Traceback" not in result.stdout.str()


def test_missing_target_option(kinds):
    result, _ = run(kinds, "", [{"id": "a", "input": "x"}])
    result.stdout.fnmatch_lines(["*no target given: pass --target REF*"])
    assert result.ret != 0


def test_non_json_output_reaches_scorers_and_is_recorded(kinds):
    kinds.makepyfile(myscorers="def has_set(output):\n    return isinstance(output['set'], set)\n")
    kinds.syspathinsert()
    result, record = run(
        kinds, "weird", [{"id": "a", "input": "x"}], "--scorer=myscorers:has_set>=1"
    )
    result.assert_outcomes(passed=1)
    assert record.items[0].output == {"obj": "<Unserialisable>", "set": [1]}
    assert record.items[0].scores[0].value == 1.0


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_fixtures_and_item_reach_the_target(kinds, extra):
    rows = [{"id": f"r{i}", "input": i} for i in range(6)]
    result, record = run(kinds, "with_fixture", rows, *extra)
    result.assert_outcomes(passed=6)
    assert [i.output for i in record.items] == [f"{i}:1:r{i}" for i in range(6)]
    created = (kinds.path / "fixture.log").read_text().splitlines()
    assert len(created) == (2 if extra else 1)  # session-scoped: once per process


def test_entry_point_targets(kinds, monkeypatch):
    from importlib.metadata import EntryPoint

    kinds.makepyfile(pkgtargets="def answer(value):\n    return 'ep:' + str(value)\n")
    kinds.syspathinsert()
    eps = [EntryPoint(name="from_ep", value="pkgtargets:answer", group="pytest_datasetrun.targets")]
    real = importlib.metadata.entry_points
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda **kw: eps if kw.get("group") == "pytest_datasetrun.targets" else real(**kw),
    )
    result, record = run(kinds, "from_ep", [{"id": "a", "input": 1}])
    result.assert_outcomes(passed=1)
    assert record.items[0].output == "ep:1"
