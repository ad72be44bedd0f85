"""The plugin's light per-row results store exactly what the public models store (issue 15)."""

from __future__ import annotations

import datetime
import math

import pytest

from pytest_datasetrun.data.dataset import validate_rows
from pytest_datasetrun.engine.runner import Engine, Settings
from pytest_datasetrun.engine.scorer import as_scorer
from pytest_datasetrun.engine.targets import as_target
from pytest_datasetrun.record.light import ResultRow, ScoreRow, dumps_like_pydantic
from pytest_datasetrun.record.results import ItemResult, Usage, to_payload
from pytest_datasetrun.score import Score

ROWS = [
    {"id": "plain", "input": "a", "expected": "a"},
    {"id": "nested", "input": {"q": [1, 2.5, None, {"deep": "é\n\u2028"}]}, "expected": "x"},
    {"id": "big", "input": 2**70, "expected": 1e-7, "metadata": {"k": 1e20}, "tags": ["t"]},
    {"id": "when", "input": "raise", "metadata": {"at": datetime.date(2026, 12, 1)}},
]


def target(input):
    if input == "raise":
        raise ValueError("boom")
    return {"answer": input, "nan": math.nan, "when": datetime.datetime(2026, 1, 1, 12)}


def graded(output, expected):
    return Score(0.5, reason="half", metadata={"inf": math.inf, "tuple": (1, 2)})


def flag(output):
    return True


def broken(output):
    raise RuntimeError("scorer broke")


@pytest.fixture
def engine():
    scorers = [
        as_scorer(graded).bind({}, 0.25, None),
        as_scorer(flag).bind({}, 1, None),  # an int threshold: stored as a float
        as_scorer(broken),
    ]
    return lambda **settings: Engine(as_target(target), scorers, Settings(**settings))


@pytest.mark.parametrize("repeat", [1, 3])
def test_light_payload_is_the_models_json(engine, repeat):
    dataset = validate_rows("<rows>", ROWS)
    evaluate = engine(repeat=repeat).evaluate_row
    for item in dataset.items:
        row = evaluate(item, node_id=f"qa::{item.id}", dataset="qa.jsonl", worker="gw0").result
        model = row.model()
        assert row.payload() == to_payload(model)


def test_engine_evaluate_still_gives_the_model(engine):
    item = validate_rows("<rows>", ROWS[:1]).items[0]
    outcome = engine().evaluate(item, dataset="qa.jsonl")
    assert isinstance(outcome.result, ItemResult)
    assert [s.threshold for s in outcome.result.scores] == [0.25, 1.0, None]
    assert outcome.result.score("broken").error == "RuntimeError: scorer broke"


def test_usage_repeats_and_exotic_values_serialise_alike():
    score = ScoreRow("s", "s", 1.0, True, 1.0, "r", None, 0.001, {"d": {"x": [1]}})
    row = ResultRow(
        item_id="i",
        input={"bytes": b"ok", "set": (1, 2), "when": datetime.datetime(2026, 1, 1)},
        scores=[score],
        usage=Usage(input_tokens=3, model="m"),
        cache={"hits": 1},
        contexts=["c"],
    )
    assert row.payload() == to_payload(row.model())
    assert dumps_like_pydantic({"n": 2**70, 1: "x"}) == b'{"n":1180591620717411303424,"1":"x"}'
