"""Copies handed to targets, and scorer calls bounded by the timeout, without a pytest session."""

from __future__ import annotations

import threading

from pytest_datasetrun.data.dataset import validate_rows
from pytest_datasetrun.engine.concurrency import LoopThread, ScorerTimeout
from pytest_datasetrun.engine.isolation import fresh
from pytest_datasetrun.engine.runner import Engine, Settings
from pytest_datasetrun.engine.scorer import as_scorer
from pytest_datasetrun.engine.scoring import ScoringContext, run_scorers
from pytest_datasetrun.engine.targets import as_target


def test_fresh_shares_no_mutable_part_and_keeps_order():
    value = {"b": [1, {"c": [2]}], "a": (3, [4]), "s": {5}, "t": "text"}
    copied = fresh(value)
    assert copied == value and list(copied) == ["b", "a", "s", "t"]
    copied["b"][1]["c"].append(9)
    copied["a"][1].append(9)
    copied["s"].add(9)
    assert value == {"b": [1, {"c": [2]}], "a": (3, [4]), "s": {5}, "t": "text"}


def test_fresh_passes_immutable_and_uncopyable_values_as_they_are():
    text = "a question"
    assert fresh(text) is text
    lock = threading.Lock()
    assert fresh({"client": lock})["client"] is lock


def test_fresh_copies_any_nesting_without_recursion():
    deep: dict[str, object] = {}
    node = deep
    for _ in range(20_000):
        node["x"] = {}
        node = node["x"]  # type: ignore[assignment]
    copied = fresh(deep)
    assert copied is not deep and copied["x"] is not deep["x"]


def test_engine_gives_each_repeat_the_original_input():
    seen = []

    def target(input):
        seen.append(list(input["log"]))
        input["log"].append("mutated")
        return "ok"

    rows = validate_rows("<rows>", [{"id": "r1", "input": {"log": ["start"]}}])
    engine = Engine(as_target(target), [], Settings(repeat=3))
    result = engine.evaluate(rows.items[0]).result
    assert seen == [["start"]] * 3
    assert result.input == {"log": ["start"]}


def test_sync_scorers_are_bounded_one_by_one_and_keep_their_order():
    release = threading.Event()
    threads = set()

    def stuck(output):
        release.wait(30)
        return 1.0

    def quick(output):
        threads.add(threading.current_thread().name)
        return 0.5

    async def later(output):
        return 0.25

    scorers = [
        as_scorer(quick, id="a"),
        as_scorer(stuck, id="b"),
        as_scorer(later, id="c"),
        as_scorer(stuck, id="d"),
        as_scorer(quick, id="e"),
    ]
    context = ScoringContext(None, None, None, {}, 0.0)
    loop = LoopThread()
    try:
        results = run_scorers(scorers, "x", context, loop.run, timeout=0.2)
    finally:
        release.set()
        loop.close()
    assert [r.id for r in results] == ["a", "b", "c", "d", "e"]
    assert [r.value for r in results] == [0.5, None, 0.25, None, 0.5]
    assert results[1].error == results[3].error == f"ScorerTimeout: {ScorerTimeout(0.2)}"
    assert threads == {"datasetrun-scorers"}


def test_without_a_timeout_scorers_run_in_the_calling_thread():
    names = []

    def where(output):
        names.append(threading.current_thread().name)
        return 1.0

    context = ScoringContext(None, None, None, {}, 0.0)
    results = run_scorers([as_scorer(where)], "x", context, lambda aw: aw)
    assert results[0].value == 1.0 and names == [threading.current_thread().name]
