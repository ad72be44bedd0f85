"""run_dataset(): the same engine and record without a pytest session."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

import pytest_datasetrun as dr
from pytest_datasetrun.errors import ConfigError, DatasetError, StoreError

EXAMPLE = Path(__file__).parent.parent / "examples" / "support"
ROWS = [
    {"id": f"r{i}", "input": f"q{i}", "expected": f"Q{i}" if i % 3 else "nope"} for i in range(12)
]


def shout(value):
    if value == "q5":
        raise RuntimeError("model overloaded")
    return value.upper()


async def slow_shout(value):
    await asyncio.sleep(0.01)
    return value.upper()


@pytest.mark.parametrize("concurrency", [1, 4])
def test_rows_target_and_scorers(concurrency):
    record = dr.run_dataset(
        ROWS, shout, ["exact_match>=1", "length(max=3)"], max_concurrency=concurrency
    )
    assert [i.item_id for i in record.items] == [f"r{i}" for i in range(12)]
    assert record.counts.errored == 1 and record.items[5].error == "RuntimeError: model overloaded"
    assert record.counts.failed == 4 and record.counts.passed == 7  # r0, r3, r6, r9 expect "nope"
    agg = record.aggregates["exact_match"]
    assert (agg.n, agg.target_errors) == (12, 1)  # the failed row counts as 0 (#10)
    assert record.target.id == "shout" and [s.id for s in record.scorers] == [
        "exact_match",
        "length",
    ]
    assert record.exit_status == 1 and record.status == "completed"


def test_async_target_repeats_and_store(tmp_path):
    store = tmp_path / "runs.json"
    record = dr.run_dataset(
        ROWS, slow_shout, ["exact_match>=1"], max_concurrency=6, repeat=2, store=store, name="nb"
    )
    assert record.repeats["k"] == 2 and record.repeats["pass@1"] == pytest.approx(8 / 12)
    stored = dr.open_store(store).get("nb")
    assert stored.run_id == record.run_id and len(stored.items) == 12


def test_matches_the_pytest_plugin_on_the_example(pytester):
    spec = importlib.util.spec_from_file_location("support_example", EXAMPLE / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["support_example"] = module  # as an import would
    try:
        spec.loader.exec_module(module)
        record = dr.run_dataset(EXAMPLE / "qa.jsonl", module.support_agent)
    finally:
        del sys.modules["support_example"]
    pytester.copy_example(str(EXAMPLE))
    pytester.runpytest("--dataset=qa.jsonl", "--target=support_agent", "--run-store=runs.json")
    plugin = dr.open_store(pytester.path / "runs.json").get("latest")
    assert [(i.item_id, i.status) for i in record.items] == [
        (i.item_id, i.status) for i in plugin.items
    ]
    assert {k: a.mean for k, a in record.aggregates.items()} == {
        k: a.mean for k, a in plugin.aggregates.items()
    }


def test_bad_rows_and_unknown_scorers_are_clear_errors():
    with pytest.raises(
        DatasetError, match=r"<rows>, row 2, field 'input': required field is missing"
    ):
        dr.run_dataset([{"input": 1}, {"expected": 2}], shout)
    with pytest.raises(ConfigError, match="unknown scorer 'exact'"):
        dr.run_dataset(ROWS, shout, ["exact>=1"])


def never_called(value):
    raise AssertionError("a replayed row never calls the target")


def test_replay_by_run_reference(tmp_path, monkeypatch):
    store = tmp_path / "runs.json"
    first = dr.run_dataset(ROWS, shout, ["exact_match>=1"], store=store, name="first")
    again = dr.run_dataset(ROWS, never_called, ["exact_match>=1"], store=store, replay="first")
    assert again.replayed_from == first.run_id
    assert [i.output for i in again.items] == [i.output for i in first.items]
    assert again.items[5].error.startswith("RuntimeError: model overloaded (replayed from run")
    assert {i.via for i in again.items} == {"replay"}
    # Without store=, the reference is looked up where pytest would look: here the ini's key.
    (tmp_path / "pytest.ini").write_text("[pytest]\ndatasetrun_store = runs.json\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATASETRUN_STORE", raising=False)
    latest = dr.run_dataset(ROWS, never_called, ["exact_match>=1"], replay="latest")
    assert latest.replayed_from == again.run_id


def test_replay_of_an_unknown_run_is_a_clear_error(tmp_path):
    store = tmp_path / "runs.json"
    with pytest.raises(StoreError, match=r"^run_dataset\(replay='nope'\): .*runs\.json"):
        dr.run_dataset(ROWS, shout, replay="nope", store=store)
    dr.run_dataset(ROWS, shout, store=store, name="first")
    with pytest.raises(StoreError, match=r"^run_dataset\(replay='nope'\): .*'nope'"):
        dr.run_dataset(ROWS, shout, replay="nope", store=store)
