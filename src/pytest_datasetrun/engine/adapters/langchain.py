"""LangChain runnables and messages, LangGraph graphs and their message states."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, Extracted, is_instance_of, text_of

__all__ = ("RUNNABLE", "LANGGRAPH", "message_output", "state_output")

_MESSAGE = "langchain_core.messages.base.BaseMessage"


async def _invoke(runnable: Any, value: Any) -> Any:
    return await runnable.ainvoke(value)


async def _invoke_graph(graph: Any, value: Any) -> Any:
    """A string row input to a graph with a ``messages`` channel becomes the user's message."""
    channels = getattr(graph, "channels", None) or {}
    if isinstance(value, str) and "messages" in channels:
        value = {"messages": [("user", value)]}
    return await graph.ainvoke(value)


def message_output(result: Any) -> Extracted | None:
    """A message's text; a message with tool calls is kept whole as the trace."""
    if not is_instance_of(result, _MESSAGE):
        return None
    return Extracted(text_of(result), trace=result if getattr(result, "tool_calls", None) else None)


def state_output(result: Any) -> Extracted | None:
    """A LangGraph state: the last AI message's text; the whole state is the trace."""
    if not isinstance(result, Mapping):
        return None
    messages = result.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    if not all(is_instance_of(message, _MESSAGE) for message in messages):
        return None
    answers = [m for m in messages if getattr(m, "type", None) == "ai"] or messages
    return Extracted(text_of(answers[-1]), trace=result)


LANGGRAPH = Adapter("langgraph", ("langgraph.pregel.",), _invoke_graph)
RUNNABLE = Adapter("langchain", ("langchain_core.runnables.base.Runnable",), _invoke)
