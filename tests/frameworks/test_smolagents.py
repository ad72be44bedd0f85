"""smolagents agents with a scripted smolagents Model (smolagents ships no fake model)."""

from __future__ import annotations

import pytest

pytest.importorskip("smolagents")

AGENTS = r"""
from smolagents import Model, ToolCallingAgent, tool
from smolagents.models import ChatMessage, ChatMessageToolCall, ChatMessageToolCallFunction, MessageRole
from smolagents.monitoring import TokenUsage
import pytest_datasetrun as dr


class Scripted(Model):
    '''Answers every question with a final_answer tool call naming the task.'''

    def generate(self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kw):
        task = next(m for m in messages if m.role == MessageRole.USER).content[0]["text"]
        function = ChatMessageToolCallFunction(name="final_answer", arguments={"answer": task.split()[-1]})
        call = ChatMessageToolCall(id="c1", type="function", function=function)
        return ChatMessage(role=MessageRole.ASSISTANT, content="", tool_calls=[call],
                           token_usage=TokenUsage(input_tokens=10, output_tokens=3))


def make_agent():
    return ToolCallingAgent(tools=[], model=Scripted(model_id="scripted"), max_steps=2, verbosity_level=0)


agent = dr.target(factory=make_agent, id="agent")
shared = dr.target(make_agent(), id="shared")
"""


@pytest.mark.parametrize("extra", [[], ["--max-concurrency", "2"]], ids=["serial", "c2"])
def test_fresh_agent_per_call_gives_each_row_its_answer(fw, extra):
    rows = [{"id": str(i), "input": f"say w{i}", "expected": f"w{i}"} for i in range(4)]
    result, record = fw.run(AGENTS, "agent", rows, "--scorer=exact_match>=1", *extra)
    result.assert_outcomes(passed=4)
    assert sorted(item.output for item in record.items) == ["w0", "w1", "w2", "w3"]


def test_one_shared_agent_under_concurrency_is_warned_about(fw):
    rows = [{"id": str(i), "input": f"say w{i}", "expected": f"w{i}"} for i in range(2)]
    result, _ = fw.run(AGENTS, "shared", rows, "--max-concurrency", "2")
    result.stdout.fnmatch_lines(
        ["*datasetrun: target 'shared' is one smolagents agent shared by 2 rows at once*factory=*"]
    )
    result, _ = fw.run(AGENTS, "shared", rows)
    assert "shared by" not in result.stdout.str()
