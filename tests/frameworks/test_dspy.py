"""DSPy modules with DSPy's own offline LM, DummyLM."""

from __future__ import annotations

import pytest

pytest.importorskip("dspy")

MODULES = r"""
import dspy
from dspy.utils.dummies import DummyLM
import pytest_datasetrun as dr

dspy.configure(lm=DummyLM([{"answer": "Paris"}] * 10))
qa = dr.target(dspy.Predict("question -> answer"), id="qa")


def chain_of_thought():
    with dspy.context(lm=DummyLM([{"reasoning": "France's capital", "answer": "Paris"}])):
        return dspy.ChainOfThought("question -> answer")


class Explained(dspy.Module):
    def __init__(self):
        super().__init__()
        self.lm = DummyLM([{"reasoning": "France's capital", "answer": "Paris"}] * 10)
        self.think = dspy.ChainOfThought("question -> answer")

    def forward(self, question):
        with dspy.context(lm=self.lm):
            return self.think(question=question)


explained = dr.target(Explained(), id="explained")
"""


def test_prediction_field_is_the_output(fw, mode):
    rows = [{"id": "q", "input": "Capital of France?", "expected": "Paris"}]
    result, record = fw.run(MODULES, "qa", rows, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    assert record.items[0].output == "Paris" and record.target.kind == "dspy"


def test_reasoning_goes_to_the_trace(fw):
    rows = [{"id": "q", "input": {"question": "Capital of France?"}, "expected": "Paris"}]
    result, record = fw.run(MODULES, "explained", rows, "--scorer=exact_match>=1")
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "Paris"
    assert item.trace == {"reasoning": "France's capital", "answer": "Paris"}
