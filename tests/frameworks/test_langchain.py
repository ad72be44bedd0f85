"""LangChain chat models and chains, and LangGraph message graphs, with LangChain's fake chat models."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

CHAT_MODELS = r"""
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate
import pytest_datasetrun as dr

# A chat model is a runnable (it keeps a legacy generate() too): detected by class, not as an agent.
chat = dr.target(FakeListChatModel(responses=["Paris"]), id="chat")
chain = dr.target(ChatPromptTemplate.from_messages([("user", "{input}")]) | FakeListChatModel(responses=["Paris"]), id="chain")


def make_tool_caller():
    call = {"name": "lookup", "args": {"city": "Paris"}, "id": "t1"}
    usage = {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    message = AIMessage(content="calling lookup", tool_calls=[call], usage_metadata=usage)
    return GenericFakeChatModel(messages=iter([message]))


tool_caller = dr.target(factory=make_tool_caller, id="tool_caller")
"""


@pytest.mark.parametrize("target", ["chat", "chain"])
def test_chat_model_and_chain_answer_with_message_content(fw, mode, target):
    rows = [{"id": "q", "input": "Capital of France?", "expected": "Paris"}]
    result, record = fw.run(CHAT_MODELS, target, rows, "--scorer=exact_match>=1", *mode)
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "Paris" and not item.output_is_repr
    assert record.target.kind == "langchain"


def test_tool_calls_and_usage_from_an_ai_message(fw):
    rows = [
        {
            "id": "q",
            "input": "weather?",
            "expected": [{"name": "lookup", "arguments": {"city": "Paris"}}],
        }
    ]
    result, record = fw.run(CHAT_MODELS, "tool_caller", rows, "--scorer=tool_calls>=1")
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert item.output == "calling lookup"
    assert item.trace["tool_calls"][0]["name"] == "lookup"
    assert (item.usage.input_tokens, item.usage.output_tokens, item.usage.total_tokens) == (5, 3, 8)


GRAPH = r"""
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
import pytest_datasetrun as dr

USAGE = {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12}


@tool
def add(a: int, b: int) -> int:
    "Add two numbers."
    return a + b


@tool
def boom(x: int) -> int:
    "Always fails."
    raise ValueError("kaboom")


def make_graph(answer, calls=()):
    script = []
    if calls:
        tool_calls = [{"name": n, "args": a, "id": f"c{i}"} for i, (n, a) in enumerate(calls)]
        script.append(AIMessage(content="", tool_calls=tool_calls, usage_metadata=USAGE))
    script.append(AIMessage(content=answer, usage_metadata=USAGE))
    model = GenericFakeChatModel(messages=iter(script))

    def agent(state: MessagesState):
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([add, boom], handle_tool_errors=True))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile()


dont_know = dr.target(make_graph("I don't know."), id="dont_know")
tools = dr.target(factory=lambda: make_graph("3", [("add", {"a": 1, "b": 2}), ("boom", {"x": 1})]), id="tools")
"""


def test_message_state_is_scored_on_the_last_ai_message(fw, mode):
    """The question is in the state: scoring the whole state would let 'I don't know.' pass."""
    rows = [{"id": "q", "input": "What is the capital of France?", "expected": "capital of France"}]
    result, record = fw.run(GRAPH, "dont_know", rows, "--scorer=contains>=1", *mode)
    result.assert_outcomes(failed=1)  # the row; SUBFAILED[contains] is shown, not counted (#14)
    item = record.items[0]
    assert item.status == "failed" and item.score("contains").value == 0.0
    assert item.output == "I don't know." and record.target.kind == "langgraph"
    assert [m["type"] for m in item.trace["messages"]] == ["human", "ai"]
    assert item.usage.total_tokens == 12


def test_graph_tool_calls_and_tool_errors(fw):
    expected = [
        {"name": "add", "arguments": {"a": 1, "b": 2}},
        {"name": "boom", "arguments": {"x": 1}},
    ]
    rows = [{"id": "q", "input": "1+2?", "expected": expected}]
    result, record = fw.run(
        GRAPH, "tools", rows, "--scorer=tool_calls>=1", "--scorer=no_tool_errors>=1"
    )
    result.assert_outcomes(failed=1)  # the row; SUBFAILED[no_tool_errors] is not counted (#14)
    item = record.items[0]
    assert item.output == "3"
    assert item.score("tool_calls").value == 1.0
    errors = item.score("no_tool_errors")
    assert errors.value == 0.0 and "boom: Error: ValueError('kaboom')" in errors.reason
    assert item.usage.total_tokens == 24
