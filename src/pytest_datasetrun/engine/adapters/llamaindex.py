"""LlamaIndex query and chat engines, workflows and workflow agents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Adapter, Extracted, get, is_instance_of, text_of

__all__ = ("QUERY_ENGINE", "CHAT_ENGINE", "WORKFLOW", "response_output", "agent_output")

_AGENT = "llama_index.core.agent.workflow.base_agent.BaseWorkflowAgent"


async def _query(engine: Any, value: Any) -> Any:
    return await engine.aquery(value if isinstance(value, str) else str(value))


async def _chat(engine: Any, value: Any) -> Any:
    return await engine.achat(value if isinstance(value, str) else str(value))


async def _run(workflow: Any, value: Any) -> Any:
    """Agents get the row as ``user_msg``; a dict row is the keyword arguments; else ``input=row``."""
    if is_instance_of(workflow, _AGENT):
        return await workflow.run(user_msg=value)
    if isinstance(value, Mapping):
        return await workflow.run(**value)
    return await workflow.run(input=value)


def _contexts(result: Any) -> list[Any]:
    nodes = get(result, "source_nodes") or []
    return [node.node.get_content() if hasattr(node, "node") else str(node) for node in nodes]


def response_output(result: Any) -> Extracted | None:
    """A query ``Response`` or chat ``AgentChatResponse``: the text, with source nodes as contexts."""
    if not is_instance_of(
        result,
        "llama_index.core.base.response.schema.Response",
        "llama_index.core.chat_engine.types.AgentChatResponse",
    ):
        return None
    return Extracted(result.response, contexts=_contexts(result))


def agent_output(result: Any) -> Extracted | None:
    """A workflow agent's ``AgentOutput``: the reply's text; its tool calls and results the trace."""
    if not is_instance_of(result, "llama_index.core.agent.workflow.workflow_events.AgentOutput"):
        return None
    calls, results = [], []
    for call in get(result, "tool_calls") or []:
        calls.append({"name": call.tool_name, "arguments": call.tool_kwargs, "id": call.tool_id})
        out = get(call, "tool_output")
        failed = bool(get(out, "is_error"))
        results.append(
            {"tool": call.tool_name, "error": str(get(out, "content")) if failed else None}
        )
    trace = {"tool_calls": calls, "tool_results": results}
    return Extracted(text_of(result.response), trace=trace)


QUERY_ENGINE = Adapter(
    "llama-index", ("llama_index.core.base.base_query_engine.BaseQueryEngine",), _query
)
CHAT_ENGINE = Adapter("llama-index", ("llama_index.core.chat_engine.types.BaseChatEngine",), _chat)
WORKFLOW = Adapter(
    "llama-index-workflow",
    ("workflows.workflow.Workflow", "llama_index.core.workflow.workflow.Workflow"),
    _run,
)
