"""pydantic-ai: ``Agent.run(prompt)``; the answer is ``AgentRunResult.output``, the messages the trace."""

from __future__ import annotations

from typing import Any

from .base import Adapter, Extracted, is_instance_of

__all__ = ("ADAPTER", "output")


async def _run(agent: Any, value: Any) -> Any:
    return await agent.run(value)


def output(result: Any) -> Extracted | None:
    if not is_instance_of(
        result, "pydantic_ai.run.AgentRunResult", "pydantic_ai.agent.AgentRunResult"
    ):
        return None
    return Extracted(result.output, trace=list(result.all_messages()))


ADAPTER = Adapter(
    "pydantic-ai", ("pydantic_ai.agent.abstract.AbstractAgent", "pydantic_ai.agent.Agent"), _run
)
