"""Built-in adapters for agent frameworks, recognised by class name so none of them is imported.

Detection order (the first match wins): pydantic-ai agents, openai-agents agents, CrewAI crews,
smolagents agents, DSPy modules, LlamaIndex query engines, chat engines and workflows, Haystack
agents and pipelines, LangGraph graphs, LangChain runnables (chat models included). Objects none
of them claims fall back to duck typing in :mod:`pytest_datasetrun.engine.targets`.
"""

from __future__ import annotations

from typing import Any

from . import crews, dspy, haystack, langchain, llamaindex, openai, pydantic_ai
from .base import Adapter, Extracted, OutputRule

__all__ = ("ADAPTERS", "OUTPUT_RULES", "Adapter", "Extracted", "find_adapter", "extract")

ADAPTERS: tuple[Adapter, ...] = (
    pydantic_ai.ADAPTER,
    openai.AGENTS,
    crews.CREWAI,
    crews.SMOLAGENTS,
    dspy.ADAPTER,
    llamaindex.QUERY_ENGINE,
    llamaindex.CHAT_ENGINE,
    llamaindex.WORKFLOW,
    haystack.AGENT,
    haystack.PIPELINE,
    langchain.LANGGRAPH,
    langchain.RUNNABLE,
)

# How a result becomes the answer a scorer sees; tried in order, whatever the target's kind.
OUTPUT_RULES: tuple[OutputRule, ...] = (
    pydantic_ai.output,
    openai.agents_output,
    openai.completion_output,
    openai.response_output,
    langchain.message_output,
    langchain.state_output,
    dspy.output,
    llamaindex.response_output,
    llamaindex.agent_output,
    haystack.message_output,
    haystack.output,
    crews.crew_output,
    crews.smolagents_output,
)


def find_adapter(obj: Any, name: str | None = None) -> Adapter | None:
    """The adapter for ``obj`` (or the one called ``name``), if any."""
    for adapter in ADAPTERS:
        if adapter.name == name if name else adapter.matches(obj):
            return adapter
    return None


def extract(result: Any) -> Extracted | None:
    """The answer in a framework result, or None when no rule knows the result's type."""
    if result is None or isinstance(result, (str, int, float, bool, list)):
        return None
    for rule in OUTPUT_RULES:
        found = rule(result)
        if found is not None:
            return found
    return None
