"""Hardening: target and scorer faults at run time (issue 11, items 9, 10 and 11).

A timeout is one line, not the plugin's and pytest's frames; a hanging scorer errors that scorer
(its siblings still run) and the session still ends; a target that mutates its input changes
neither the record nor the next repeat. Earlier runs in the store are kept as they were.
"""

from __future__ import annotations

import pytest
from engine_support import Seed, assert_clean, output

FAULTS_CONFTEST = r"""
import asyncio
import threading
import time

import pytest_datasetrun as dr

_FOREVER = threading.Event()


@dr.target(id="sleepy")
def sleepy(input):
    _FOREVER.wait(60)
    return input


@dr.target(id="asleepy")
async def asleepy(input):
    await asyncio.sleep(60)
    return input


@dr.target(id="mutator")
def mutator(input):
    input["history"].append("seen")
    input["count"] += 1
    return len(input["history"])


@dr.target(id="item_mutator")
def item_mutator(input, item):
    item.input["history"].append("via item")
    item.metadata["touched"] = True
    input["history"].append("seen")
    return len(item.input["history"])


class Workflow:
    def run(self, value):
        return {"status": "failed", "error": "guardrail hit"}


workflow = dr.target(Workflow(), id="workflow")


@dr.scorer(id="hang")
def hang(output):
    _FOREVER.wait(60)
    return 1.0


@dr.scorer(id="ahang")
async def ahang(output):
    await asyncio.sleep(60)
    return 1.0


def stuck_model(prompt):
    _FOREVER.wait(60)
    return '{"score": 1}'


@dr.scorer(id="fine")
def fine(output):
    return 1.0
"""


@pytest.fixture
def faults(project):
    conftest = project.path / "conftest.py"
    conftest.write_text(conftest.read_text(encoding="utf-8") + FAULTS_CONFTEST, encoding="utf-8")
    return Seed(project)


@pytest.mark.parametrize("target", ["sleepy", "asleepy"])
def test_target_timeout_is_one_short_line(project, faults, target):
    project.dataset([{"id": "r1", "input": "x"}, {"id": "r2", "input": "y"}])
    result = project.run("--dataset=qa.jsonl", f"--target={target}", "--item-timeout=0.3")
    line = assert_clean(result, 1, "TargetTimeout: timed out after 0.3 s")
    text = output(result)
    assert "concurrency.py" not in text and "runner.py" not in text and "_pytest" not in text
    assert text.count("TargetTimeout") <= 6, text  # headline + short summary per row
    assert line.strip().startswith("TargetTimeout")
    record = project.last_run()
    assert [i.error for i in record.items] == ["TargetTimeout: timed out after 0.3 s"] * 2
    faults.assert_kept()


def test_target_timeout_under_concurrency_and_xdist(project, faults):
    project.dataset([{"id": f"r{i}", "input": "x"} for i in range(4)])
    result = project.run(
        "--dataset=qa.jsonl", "--target=sleepy", "--item-timeout=0.3", "--max-concurrency=2", "-n=2"
    )
    assert_clean(result, 1, "TargetTimeout: timed out after 0.3 s")
    assert project.last_run().counts.errored == 4
    faults.assert_kept()


def test_workflow_status_error_has_no_plugin_frames(project, faults):
    project.dataset([{"id": "r1", "input": "x"}])
    result = project.run("--dataset=qa.jsonl", "--target=workflow")
    assert_clean(result, 1, "TargetStatusError: workflow ended with status 'failed': guardrail hit")
    assert "targets.py" not in output(result)
    faults.assert_kept()


def test_target_error_still_shows_the_users_frame(project, faults):
    project.dataset([{"id": "r1", "input": "raise-now"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    text = output(result)
    assert result.ret == 1
    assert "conftest.py" in text and "target exploded on raise-now" in text
    assert "runner.py" not in text and "Traceback" not in text
    faults.assert_kept()


@pytest.mark.parametrize("scorer", ["hang", "ahang"])
def test_hanging_scorer_errors_and_siblings_still_run(project, faults, scorer):
    project.dataset([{"id": "r1", "input": "x"}, {"id": "r2", "input": "y"}])
    result = project.run_subprocess(
        "--dataset=qa.jsonl",
        "--target=echo",
        f"--scorer={scorer}",
        "--scorer=fine>=1",
        "--item-timeout=0.5",
        timeout=40,
    )
    assert_clean(
        result, 1, f"{scorer} errored: ScorerTimeout: the scorer did not finish within 0.5 s"
    )
    record = project.last_run()
    for item in record.items:
        by_id = {s.id: s for s in item.scores}
        assert (
            by_id[scorer].error
            == "ScorerTimeout: the scorer did not finish within 0.5 s (--item-timeout)"
        )
        assert by_id["fine"].value == 1.0
        assert item.status == "errored"
    faults.assert_kept()


def test_judge_with_a_hanging_sync_model_ends_the_session(project, faults):
    judge = "llm_judge(model='conftest:stuck_model', rubric='ok?')"
    project.dataset([{"id": "r1", "input": "x"}])
    result = project.run_subprocess(
        "--dataset=qa.jsonl",
        "--target=echo",
        f"--scorer={judge}",
        "--scorer=fine",
        "--item-timeout=0.5",
        timeout=40,
    )
    assert_clean(result, 1, "llm_judge errored: ScorerTimeout")
    scores = {s.id: s for s in project.last_run().items[0].scores}
    assert scores["llm_judge"].error.startswith("ScorerTimeout")
    assert scores["fine"].value == 1.0
    faults.assert_kept()


def test_target_mutating_its_input_changes_neither_record_nor_repeats(project, faults):
    row = {"id": "r1", "input": {"history": ["start"], "count": 0}}
    project.dataset([row])
    result = project.run("--dataset=qa.jsonl", "--target=mutator", "--repeat=3")
    assert result.ret == 0, output(result)
    item = project.last_run().items[0]
    assert item.input == {"history": ["start"], "count": 0}
    assert [repeat.output for repeat in item.repeats] == [2, 2, 2]
    faults.assert_kept()


def test_target_mutating_its_item_changes_nothing_recorded(project, faults):
    row = {"id": "r1", "input": {"history": []}, "metadata": {"kind": "a"}}
    project.dataset([row])
    result = project.run("--dataset=qa.jsonl", "--target=item_mutator", "--repeat=2")
    assert result.ret == 0, output(result)
    item = project.last_run().items[0]
    assert item.input == {"history": []} and item.metadata == {"kind": "a"}
    assert [repeat.output for repeat in item.repeats] == [2, 2]


def test_target_mutating_its_input_on_retries(project, faults):
    conftest = project.path / "conftest.py"
    conftest.write_text(
        conftest.read_text(encoding="utf-8")
        + r"""

@dr.target(id="retry_mutator")
def retry_mutator(input):
    input["seen"].append(1)
    if len(input["seen"]) < 2 and not os.path.exists("second"):
        open("second", "w").close()
        raise RuntimeError("first attempt fails")
    return len(input["seen"])
""",
        encoding="utf-8",
    )
    project.dataset([{"id": "r1", "input": {"seen": []}}])
    result = project.run(
        "--dataset=qa.jsonl",
        "--target=retry_mutator",
        "--max-retries=1",
        "--retry-on=RuntimeError",  # only transient errors are retried unless named (#12)
    )
    assert result.ret == 0, output(result)
    item = project.last_run().items[0]
    assert item.attempts == 2 and item.output == 1 and item.input == {"seen": []}
