"""LlamaIndex query engines, workflows and agents with its own MockLLM and MockEmbedding."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_index.core")

ENGINES = r"""
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.workflow import StartEvent, StopEvent, Workflow, step
import pytest_datasetrun as dr

Settings.llm = MockLLM(max_tokens=3)
Settings.embed_model = MockEmbedding(embed_dim=8)
docs = [Document(text="Paris is the capital of France.")]
engine = dr.target(VectorStoreIndex.from_documents(docs).as_query_engine(similarity_top_k=1), id="engine")


class Echo(Workflow):
    @step
    async def answer(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=f"answer to {ev.input}")


workflow = dr.target(factory=lambda: Echo(timeout=10), id="workflow")
"""


def test_query_engine_text_and_source_nodes_as_contexts(fw, mode):
    rows = [{"id": "q", "input": "capital of France?", "expected": "text text text"}]
    result, record = fw.run(ENGINES, "engine", rows, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "text text text" and record.target.kind == "llama-index"
    assert item.contexts == ["Paris is the capital of France."]


def test_workflow_gets_the_row_as_input_not_as_its_context(fw):
    rows = [{"id": "q", "input": "q1", "expected": "answer to q1"}]
    result, record = fw.run(ENGINES, "workflow", rows, "--scorer=exact_match>=1")
    result.assert_outcomes(passed=1)
    assert record.items[0].output == "answer to q1"


AGENT = r"""
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ToolCallBlock
from llama_index.core.llms import ChatMessage
from llama_index.core.llms.mock import MockFunctionCallingLLM
import pytest_datasetrun as dr


def add(a: int, b: int) -> int:
    "Add two numbers."
    return a + b


def boom(x: int) -> int:
    "Always fails."
    raise ValueError("kaboom")


def make_agent():
    state = {"n": 0}

    def reply(messages, **kwargs):
        state["n"] += 1
        if state["n"] == 1:
            calls = [
                ToolCallBlock(tool_call_id="t1", tool_name="add", tool_kwargs={"a": 1, "b": 2}),
                ToolCallBlock(tool_call_id="t2", tool_name="boom", tool_kwargs={"x": 1}),
            ]
            return ChatMessage(role="assistant", blocks=calls)
        return ChatMessage(role="assistant", content="3")

    return FunctionAgent(tools=[add, boom], llm=MockFunctionCallingLLM(response_generator=reply))


agent = dr.target(factory=make_agent, id="agent")
"""


def test_function_agent_answer_tool_calls_and_errors(fw):
    expected = [
        {"name": "add", "arguments": {"a": 1, "b": 2}},
        {"name": "boom", "arguments": {"x": 1}},
    ]
    rows = [{"id": "q", "input": "1+2?", "expected": expected}]
    args = ("--scorer=tool_calls>=1", "--scorer=no_tool_errors>=1")
    result, record = fw.run(AGENT, "agent", rows, *args)
    result.assert_outcomes(failed=1)  # the row; SUBFAILED[no_tool_errors] is not counted (#14)
    item = record.items[0]
    assert item.output == "3"
    assert item.score("tool_calls").value == 1.0
    errors = item.score("no_tool_errors")
    assert errors.value == 0.0 and "boom: kaboom" in errors.reason
