"""Reading an agent's tool calls and tool results out of its output: one convention for all scorers.

Tool calls are found, in this order, in:

(a) an object or dict with a ``tool_calls`` list (a LangChain ``AIMessage``, an OpenAI
    assistant message, or a plain ``{"tool_calls": [...]}`` result);
(b) a list of messages (or a dict/object with a ``messages`` list): the ``tool_calls`` of
    each message, in order (OpenAI ``role: assistant`` dicts, LangChain ``type: ai`` dicts or
    message objects), plus Anthropic ``tool_use`` content blocks;
(c) a list whose items are themselves calls (or bare tool names), or a single call.

Each call is ``{"name", "arguments"}`` (OpenAI, arguments as a JSON string, parsed here), or
``{"function": {"name", "arguments"}}`` (OpenAI), or ``{"name", "args"}`` (LangChain), or
``{"name", "input"}`` (Anthropic), or ``{"tool_name", "args"}`` (pydantic-ai ``ToolCallPart`` in a
message's ``parts``, Haystack ``ToolCall``); objects with those attributes work the same way.
OpenAI Responses items (``type: function_call`` / ``function_call_output``) are calls and results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._util import to_text

__all__ = ("ToolCall", "ToolError", "extract_tool_calls", "extract_tool_errors", "get_field")

_ARGUMENT_KEYS = ("arguments", "args", "input", "tool_kwargs")
_ERROR_PREFIXES = ("error", "exception", "traceback", "an error occurred while running the tool")
_NAME_KEYS = ("name", "tool_name")
# pydantic-ai tool-return outcomes that mean the tool did not give its result.
_FAILED_OUTCOMES = ("failed", "retried")
_MESSAGE_TYPES = ("ai", "human", "system", "tool", "function", "chat")


@dataclass(frozen=True)
class ToolCall:
    """One tool call: its name and its arguments (``None`` in an expectation: any arguments)."""

    name: str
    arguments: Any = None

    def render(self) -> str:
        if self.arguments is None:
            return self.name
        text = json.dumps(self.arguments, ensure_ascii=False, default=str, sort_keys=True)
        return f"{self.name}({text if len(text) <= 60 else text[:59] + '…'})"


@dataclass(frozen=True)
class ToolError:
    """A tool result that reports an error."""

    tool: str
    message: str


def get_field(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for a mapping, else ``getattr(obj, key)``, else ``default``."""
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _arguments(raw: Any) -> Any:
    if isinstance(raw, (bytes, str)):
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw  # kept as text: it matches only an identical expectation
    return {} if raw is None else raw


def _call(item: Any) -> ToolCall:
    if isinstance(item, str):
        return ToolCall(item)
    function = get_field(item, "function")
    source = function if function is not None else item
    name = next((n for k in _NAME_KEYS if isinstance(n := get_field(source, k), str)), None)
    if name is None:
        raise ValueError(f"a tool call without a name: {item!r:.80}")
    for key in _ARGUMENT_KEYS:
        raw = get_field(source, key)
        if raw is not None:
            return ToolCall(name, _arguments(raw))
    return ToolCall(name, {})


def _is_call(item: Any) -> bool:
    if isinstance(item, str):
        return False
    if get_field(item, "role") is not None or get_field(item, "type") in _MESSAGE_TYPES:
        return False
    if get_field(item, "part_kind") not in (None, "tool-call"):
        return False
    return any(get_field(item, key) is not None for key in ("function", *_NAME_KEYS))


def _blocks(message: Any) -> Iterator[Any]:
    content = get_field(message, "content")
    if isinstance(content, list):
        yield from (block for block in content if isinstance(block, Mapping))


def _parts(message: Any, kind: str) -> list[Any]:
    """pydantic-ai message parts of one ``part_kind``."""
    parts = get_field(message, "parts")
    if not isinstance(parts, (list, tuple)):
        return []
    return [part for part in parts if get_field(part, "part_kind") == kind]


def _message_calls(message: Any) -> Iterator[ToolCall]:
    parts = _parts(message, "tool-call")
    if parts:
        yield from (_call(part) for part in parts)
        return
    calls = get_field(message, "tool_calls")
    if isinstance(calls, list) and calls:
        yield from (_call(call) for call in calls)
        return
    for block in _blocks(message):
        if block.get("type") == "tool_use":
            yield _call(block)


def _messages(output: Any) -> list[Any] | None:
    if isinstance(output, (list, tuple)):
        return list(output)
    messages = get_field(output, "messages")
    return list(messages) if isinstance(messages, (list, tuple)) else None


def extract_tool_calls(output: Any) -> list[ToolCall]:
    """Return the tool calls in ``output``, in order, following the module's convention.

    :param output: a target output (or an expected value); ``None`` or a plain string has none.
    :raises ValueError: for a call without a name.
    """
    if output is None or isinstance(output, (str, bytes)):
        return []
    calls = get_field(output, "tool_calls")
    if isinstance(calls, list):
        return [_call(call) for call in calls]
    messages = _messages(output)
    if messages is None:
        return [_call(output)] if _is_call(output) else []
    found: list[ToolCall] = []
    for item in messages:
        if isinstance(item, str) or _is_call(item):
            found.append(_call(item))
        else:
            found.extend(_message_calls(item))
    return found


def _error_text(content: Any, prefixes: tuple[str, ...]) -> str | None:
    if isinstance(content, str):
        stripped = content.strip()
        if stripped.lower().startswith(prefixes):
            return stripped
        try:
            content = json.loads(stripped)
        except ValueError:
            return None
    if isinstance(content, Mapping):
        if content.get("is_error") is True or content.get("isError") is True:
            return to_text(content.get("content", content))
        if content.get("error"):
            return to_text(content["error"])
    return None


def _result_error(item: Any, prefixes: tuple[str, ...]) -> str | None:
    if get_field(item, "status") == "error":  # LangChain ToolMessage
        return to_text(get_field(item, "content"))
    kind = get_field(item, "part_kind")
    if kind == "retry-prompt" or (
        kind == "tool-return" and get_field(item, "outcome") in _FAILED_OUTCOMES
    ):
        return to_text(get_field(item, "content"))  # pydantic-ai
    if get_field(get_field(item, "tool_call_result"), "error") is True:  # Haystack
        return to_text(get_field(get_field(item, "tool_call_result"), "result"))
    if get_field(item, "type") == "function_call_output":  # OpenAI Responses
        return _error_text(get_field(item, "output"), prefixes)
    if get_field(item, "is_error") is True:  # Anthropic tool_result block
        return to_text(get_field(item, "content"))
    if isinstance(item, Mapping) and item.get("error") and "role" not in item:
        return to_text(item["error"])
    return _error_text(get_field(item, "content"), prefixes)


def _is_result(item: Any) -> bool:
    return (
        get_field(item, "role") == "tool"
        or get_field(item, "type") in ("tool", "tool_result", "function_call_output")
        or (isinstance(item, Mapping) and "error" in item and "role" not in item)
    )


def _results(output: Any) -> Iterator[Any]:
    results = get_field(output, "tool_results")
    if isinstance(results, (list, tuple)):
        yield from results
    for item in _messages(output) or []:
        if _is_result(item):
            yield item
        yield from _parts(item, "tool-return")
        yield from (part for part in _parts(item, "retry-prompt") if get_field(part, "tool_name"))
        for block in _blocks(item):
            if block.get("type") == "tool_result":
                yield block


def _call_names(output: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for message in _messages(output) or []:
        if get_field(message, "type") == "function_call":  # OpenAI Responses
            names[str(get_field(message, "call_id"))] = str(get_field(message, "name"))
        for call in get_field(message, "tool_calls") or []:
            call_id, function = get_field(call, "id"), get_field(call, "function")
            name = get_field(function if function is not None else call, "name")
            if isinstance(call_id, str) and isinstance(name, str):
                names[call_id] = name
    return names


def extract_tool_errors(
    output: Any, *, prefixes: tuple[str, ...] = _ERROR_PREFIXES
) -> tuple[int, list[ToolError]]:
    """Return how many tool results ``output`` holds, and those that report an error.

    A result is an error when it is a LangChain ``ToolMessage`` with ``status == "error"``, an
    Anthropic ``tool_result`` with ``is_error``, a dict with a truthy ``error`` key, or a
    ``role: tool`` message whose content is a JSON object with ``error``/``is_error`` or text
    starting (case-insensitively) with one of ``prefixes``.

    :param output: a target output.
    :param prefixes: lowercase text prefixes that flag a tool message's content as an error.
    """
    names = _call_names(output)
    results = list(_results(output))
    errors = []
    for result in results:
        message = _result_error(result, prefixes)
        if message is not None:
            call_id = get_field(result, "tool_call_id") or get_field(result, "tool_use_id")
            call_id = call_id or get_field(result, "call_id")
            tool = get_field(result, "name") or get_field(result, "tool_name")
            tool = tool or names.get(call_id) or get_field(result, "tool")
            errors.append(ToolError(str(tool or "?"), message))
    return len(results), errors
