"""pydantic-ai agents with its own offline models, TestModel and FunctionModel."""

from __future__ import annotations

import pytest

pytest.importorskip("pydantic_ai")

AGENTS = r"""
from pydantic_ai import Agent, ModelRetry
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
import pytest_datasetrun as dr

paris = dr.target(Agent(TestModel(custom_output_text="Paris")), id="paris")


def script(messages, info: AgentInfo) -> ModelResponse:
    if len(messages) == 1:
        return ModelResponse(parts=[
            ToolCallPart("add", {"a": 1, "b": 2}, tool_call_id="c1"),
            ToolCallPart("check", {"x": 1}, tool_call_id="c2"),
        ])
    return ModelResponse(parts=[TextPart("3")])


tools_agent = Agent(FunctionModel(script))


@tools_agent.tool_plain
def add(a: int, b: int) -> int:
    return a + b


@tools_agent.tool_plain
def check(x: int) -> str:
    raise ModelRetry("x must be positive")


tools = dr.target(tools_agent, id="tools")
"""


def test_agent_output_not_the_run_result_repr(fw, mode):
    rows = [{"id": "q", "input": "Capital of France?", "expected": "Paris"}]
    result, record = fw.run(AGENTS, "paris", rows, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "Paris" and record.target.kind == "pydantic-ai"
    assert item.usage.model == "test" and item.usage.total_tokens > 0
    assert [m["kind"] for m in item.trace] == ["request", "response"]


def test_tool_calls_and_retried_tools_read_from_message_parts(fw):
    expected = [{"name": "add", "arguments": {"a": 1, "b": 2}}, "check"]
    rows = [{"id": "q", "input": "1+2?", "expected": expected}]
    args = ("--scorer=tool_calls>=1", "--scorer=no_tool_errors>=1")
    result, record = fw.run(AGENTS, "tools", rows, *args)
    result.assert_outcomes(failed=1)  # the row; SUBFAILED[no_tool_errors] is not counted (#14)
    item = record.items[0]
    assert item.output == "3"
    assert item.score("tool_calls").value == 1.0
    errors = item.score("no_tool_errors")
    assert errors.value == 0.0 and "check: x must be positive" in errors.reason
