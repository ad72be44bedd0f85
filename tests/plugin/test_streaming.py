"""Results stream to a spool and into running sums: the record must match its own stored items."""

from __future__ import annotations

import json
import random
from pathlib import Path

import execnet
import pytest

from pytest_datasetrun.analysis.costs import usage_summary
from pytest_datasetrun.analysis.gates import item_has_error
from pytest_datasetrun.analysis.totals import UsageTotals
from pytest_datasetrun.record.aggregate import RunningAggregates
from pytest_datasetrun.record.results import ItemResult, ScorerResult, Usage
from pytest_datasetrun.record.run import ScorerInfo, aggregate_scores, count_items

ROWS = [
    {"id": f"r{i:02d}", "input": f"v{i}" if i % 4 else f"raise{i}", "expected": f"v{i * i % 7}"}
    for i in range(30)
]
ARGS = (
    "--dataset=qa.jsonl",
    "--target=echo",
    "--scorer=exact_match>=1",
    "--scorer=length_ok",
    "--scorer=boom",
    "--scorer=nan",
    "--max-errors=0",
    "--min-pass-rate=0.1",
    "--fail-under=length_ok=0.1",
)


def test_record_figures_equal_those_computed_from_its_stored_items(project, qa, mode):
    """Counts, aggregates (mean, stdev, pass rate) and gates come from sums kept as rows arrive."""
    qa(ROWS)
    project.run(*ARGS, "--deselect=qa.jsonl::r03", *mode)
    record = project.last_run()
    assert record.counts.selected == len(record.items) == 29
    assert record.counts == count_items(record.items)
    assert record.aggregates == aggregate_scores(record.items, record.scorers)
    assert list(record.aggregates) == ["exact_match", "length_ok", "boom", "nan"]
    errors = next(gate for gate in record.gates if gate.gate == "errors")
    assert errors.value == sum(map(item_has_error, record.items)) == 29  # boom errs on every row
    assert [item.index for item in record.items] == sorted(item.index for item in record.items)


def test_no_spool_or_temporary_file_is_left_behind(project, qa, mode):
    qa(ROWS[:6])
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", *mode)
    store = project.path / ".datasetrun"
    names = sorted(p.relative_to(store).as_posix() for p in store.rglob("*"))
    run_id = project.last_run().run_id
    assert names == ["runs.items", f"runs.items/{run_id}.json", "runs.json", "runs.json.lock"]
    project.run("--dataset=qa.jsonl", "--target=echo", "--no-run-store", *mode)
    assert sorted(p.relative_to(store).as_posix() for p in store.rglob("*")) == names


def test_item_hooks_get_every_item_in_dataset_order(project, qa, mode):
    qa(ROWS[:8])
    project.pytester.makeconftest(
        (Path(project.path) / "conftest.py").read_text()
        + """

SEEN = []


@pytest.hookimpl(optionalhook=True)
def pytest_datasetrun_item_result(result, config):
    SEEN.append(result.item_id)


@pytest.hookimpl(optionalhook=True)
def pytest_datasetrun_run_finished(record, config):
    log({"items": SEEN, "record": [item.item_id for item in record.items]})
"""
    )
    project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", *mode)
    ids = [row["id"] for row in ROWS[:8]]
    assert project.calls()[-1] == {"items": ids, "record": ids}


@pytest.mark.parametrize("target_errors", ["zero", "exclude"])
def test_running_aggregates_match_aggregate_scores_exactly(target_errors):
    """Exact sums: the same mean, min, max and stdev (to the last bit) as the statistics module."""
    rng = random.Random(15)
    infos = [ScorerInfo(id="declared", name="Declared", threshold=0.5)]
    for _ in range(100):
        items = [_random_item(rng, i) for i in range(rng.randint(0, 40))]
        sums = RunningAggregates(infos, target_errors)
        for item in items:
            sums.add(item.model_dump(mode="json"))
        assert sums.aggregates() == aggregate_scores(items, infos, target_errors)
        assert sums.counts() == count_items(items)
        assert sums.item_errors == sum(map(item_has_error, items))


@pytest.mark.parametrize("target_errors", ["zero", "exclude"])
def test_sums_kept_apart_and_merged_equal_sums_kept_in_order(target_errors):
    """Exact: split the rows among processes at random; the merged figures are bit for bit equal."""
    rng = random.Random(151)
    infos = [ScorerInfo(id="a", name="a", threshold=0.5), ScorerInfo(id="b", name="b")]
    for _ in range(60):
        items = [_random_item(rng, i) for i in range(rng.randint(0, 50))]
        parts: list[list[ItemResult]] = [[] for _ in range(rng.randint(1, 4))]
        for item in items:
            rng.choice(parts).append(item)
        merged, totals = RunningAggregates(infos, target_errors), UsageTotals()
        for part in parts:
            sums, usage = RunningAggregates(infos, target_errors), UsageTotals()
            for item in part:
                sums.add(item.model_dump(mode="json"))
                usage.add(item)
            # what crosses from a worker: execnet's own serialiser, as xdist's workeroutput does
            wire = execnet.loads(execnet.dumps({"sums": sums.to_wire(), "usage": usage.to_wire()}))
            merged.merge(wire["sums"])
            totals.merge(wire["usage"])
        assert merged.aggregates() == aggregate_scores(items, infos, target_errors)
        assert json.dumps(merged.aggregates()["a"].model_dump()) == json.dumps(
            aggregate_scores(items, infos, target_errors)["a"].model_dump()
        )
        assert merged.counts() == count_items(items)
        assert merged.item_errors == sum(map(item_has_error, items))
        assert totals.summary() == usage_summary(items, None)


def test_sums_of_an_unknown_scorer_are_refused():
    sums = RunningAggregates([ScorerInfo(id="a", name="a")])
    other = RunningAggregates([ScorerInfo(id="a", name="a"), ScorerInfo(id="z", name="z")])
    with pytest.raises(KeyError):
        sums.merge(other.to_wire())


def _random_item(rng: random.Random, i: int) -> ItemResult:
    scores = []
    for sid in ("a", "b"):
        roll = rng.random()
        if roll < 0.1:
            scores.append(ScorerResult(id=sid, name=sid, error="boom"))
        elif roll < 0.2:
            scores.append(ScorerResult(id=sid, name=sid, passed=True))
        else:
            value = rng.choice([rng.random(), 1e-300 * rng.random(), 1e12 * rng.random(), 0.1])
            meta = {"usage": {"input_tokens": 2, "output_tokens": 5}} if roll > 0.8 else {}
            scores.append(
                ScorerResult(
                    id=sid,
                    name=sid,
                    value=value,
                    passed=rng.choice([True, False, None]),
                    metadata=meta,
                )
            )
    status = rng.choice(["passed", "failed", "errored", "skipped"])
    via = rng.choice(["target", "target", "cache", "replay"])
    usage = Usage(input_tokens=i, output_tokens=2 * i, total_tokens=3 * i) if i % 3 else None
    duration = rng.random()
    if status == "errored" and rng.random() < 0.7:  # the target failed: no scores, an error
        return ItemResult(
            item_id=f"i{i}",
            status=status,
            error="target raised",
            via=via,
            target_duration_s=duration,
        )
    return ItemResult(
        item_id=f"i{i}",
        status=status,
        scores=scores,
        via=via,
        usage=usage,
        target_duration_s=duration,
    )
