"""openai-agents: an Agent run by its Runner against the loopback server."""

from __future__ import annotations

import pytest

pytest.importorskip("agents")

AGENTS = r"""
import os
from openai import AsyncOpenAI
from agents import Agent, OpenAIChatCompletionsModel, function_tool, set_tracing_disabled
import pytest_datasetrun as dr

set_tracing_disabled(True)  # no trace export to the network


@function_tool
def add(a: int, b: int) -> int:
    "Add two numbers."
    return a + b


@function_tool
def boom(a: int, b: int) -> int:
    "Always fails."
    raise ValueError("kaboom")


def make(tools):
    model = OpenAIChatCompletionsModel(model="fake", openai_client=AsyncOpenAI(max_retries=0))
    return Agent(name="assistant", instructions="Be terse.", tools=tools, model=model)


plain = dr.target(make([]), id="plain")
with_tool = dr.target(factory=lambda: make([add]), id="with_tool")
failing_tool = dr.target(factory=lambda: make([boom]), id="failing_tool")
"""


def test_agent_final_output_and_usage(fw, openai_server, mode):
    openai_server.state.answer = "Paris"
    rows = [{"id": "q", "input": "Capital of France?", "expected": "Paris"}]
    result, record = fw.run(AGENTS, "plain", rows, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "Paris" and record.target.kind == "openai-agents"
    assert (item.usage.input_tokens, item.usage.output_tokens, item.usage.total_tokens) == (
        11,
        7,
        18,
    )


def test_tool_calls_and_tool_errors_from_run_items(fw, openai_server):
    openai_server.state.answer = "3"
    rows = [
        {"id": "q", "input": "1+2?", "expected": [{"name": "add", "arguments": {"a": 1, "b": 2}}]}
    ]
    args = ("--scorer=tool_calls>=1", "--scorer=no_tool_errors>=1")
    result, record = fw.run(AGENTS, "with_tool", rows, *args)
    result.assert_outcomes(passed=1)
    assert record.items[0].output == "3" and record.items[0].usage.total_tokens == 36
    rows[0]["expected"] = [{"name": "boom", "arguments": {"a": 1, "b": 2}}]
    result, record = fw.run(AGENTS, "failing_tool", rows, *args)
    result.assert_outcomes(failed=1)  # one row, one verdict (#14)
    errors = record.items[0].score("no_tool_errors")
    assert errors.value == 0.0 and "boom: An error occurred while running the tool" in errors.reason
