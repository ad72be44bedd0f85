"""Haystack pipelines and agents: the answer is the last reply's text; the whole result the trace."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .base import Adapter, Extracted, is_instance_of

__all__ = ("PIPELINE", "AGENT", "output", "message_output")

_MESSAGE = "haystack.dataclasses.chat_message.ChatMessage"


async def _run_pipeline(pipeline: Any, value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise TypeError(
            "a Haystack pipeline takes its inputs as a dict per component, e.g. "
            '{"llm": {"messages": [...]}}: make the row\'s input that dict, or wrap the pipeline '
            "in a function that builds it"
        )
    if hasattr(pipeline, "run_async"):
        return await pipeline.run_async(dict(value))
    return pipeline.run(dict(value))


async def _run_agent(agent: Any, value: Any) -> Any:
    if isinstance(value, Mapping):
        return await agent.run_async(**value)
    chat_message = importlib.import_module("haystack.dataclasses").ChatMessage
    return await agent.run_async(messages=[chat_message.from_user(str(value))])


def _text(reply: Any) -> Any:
    return reply.text if is_instance_of(reply, _MESSAGE) else reply


def message_output(result: Any) -> Extracted | None:
    if not is_instance_of(result, _MESSAGE):
        return None
    return Extracted(result.text, trace=result if result.tool_calls else None)


def output(result: Any) -> Extracted | None:
    """An agent's ``last_message``, or the last ``replies`` of a pipeline's components."""
    if not isinstance(result, Mapping):
        return None
    last = result.get("last_message")
    if is_instance_of(last, _MESSAGE):
        return Extracted(last.text, trace=result)
    replies = [
        out["replies"]
        for out in result.values()
        if isinstance(out, Mapping) and isinstance(out.get("replies"), list) and out["replies"]
    ]
    if not replies or not all(
        is_instance_of(r, _MESSAGE) or isinstance(r, str) for r in replies[-1]
    ):
        return None
    return Extracted(_text(replies[-1][-1]), trace=result)


PIPELINE = Adapter("haystack", ("haystack.core.pipeline.base.PipelineBase",), _run_pipeline)
AGENT = Adapter("haystack-agent", ("haystack.components.agents.agent.Agent",), _run_agent)
