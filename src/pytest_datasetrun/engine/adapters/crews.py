"""CrewAI crews and smolagents agents: agents that keep state (give ``factory=`` under concurrency)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, Extracted, get, is_instance_of

__all__ = ("CREWAI", "SMOLAGENTS", "crew_output", "smolagents_output")


async def _kickoff(crew: Any, value: Any) -> Any:
    """A dict row is the crew's ``inputs``; anything else is ``{"input": row}``."""
    inputs = dict(value) if isinstance(value, Mapping) else {"input": value}
    return await crew.kickoff_async(inputs=inputs)


def _smol_run(agent: Any, value: Any) -> Any:
    return agent.run(value)


def crew_output(result: Any) -> Extracted | None:
    if not is_instance_of(result, "crewai.crews.crew_output.CrewOutput"):
        return None
    return Extracted(result.raw)


def smolagents_output(result: Any) -> Extracted | None:
    """smolagents ``AgentText`` and friends as their raw value; a full ``RunResult`` as its output."""
    if is_instance_of(result, "smolagents.agent_types.AgentType"):
        return Extracted(result.to_raw())
    if is_instance_of(result, "smolagents.agents.RunResult", "smolagents.memory.RunResult"):
        return Extracted(get(result, "output"), trace={"state": get(result, "state")})
    return None


CREWAI = Adapter("crewai", ("crewai.crew.Crew",), _kickoff, stateful=True)
SMOLAGENTS = Adapter(
    "smolagents", ("smolagents.agents.MultiStepAgent",), _smol_run, is_async=False, stateful=True
)
