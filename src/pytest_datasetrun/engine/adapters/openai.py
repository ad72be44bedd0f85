"""OpenAI results (Chat Completions, Responses) and openai-agents ``Agent`` run through ``Runner``."""

from __future__ import annotations

import importlib
from typing import Any

from .base import Adapter, Extracted, get, is_instance_of

__all__ = ("AGENTS", "completion_output", "response_output", "agents_output")


async def _run_agent(agent: Any, value: Any) -> Any:
    runner = importlib.import_module("agents").Runner
    return await runner.run(agent, value)


def completion_output(result: Any) -> Extracted | None:
    """``ChatCompletion``: the first choice's text; its message (with tool calls) is the trace."""
    if not is_instance_of(result, "openai.types.chat.chat_completion.ChatCompletion"):
        return None
    message = result.choices[0].message if result.choices else None
    return Extracted(get(message, "content"), trace=message)


def response_output(result: Any) -> Extracted | None:
    """A Responses API ``Response``: ``output_text``; its output items are the trace."""
    if not is_instance_of(result, "openai.types.responses.response.Response"):
        return None
    return Extracted(result.output_text, trace=list(result.output))


def agents_output(result: Any) -> Extracted | None:
    """openai-agents ``RunResult``: ``final_output``; the raw items of the run are the trace."""
    if not is_instance_of(result, "agents.result.RunResultBase"):
        return None
    items = [get(item, "raw_item") for item in get(result, "new_items") or []]
    return Extracted(result.final_output, trace=items)


AGENTS = Adapter("openai-agents", ("agents.agent.Agent",), _run_agent)
