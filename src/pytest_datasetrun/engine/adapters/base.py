"""What an adapter is: how to recognise, call and read one framework's objects, without importing it."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ("Adapter", "Extracted", "OutputRule", "class_names", "is_instance_of", "get", "text_of")


@dataclass(frozen=True)
class Extracted:
    """A result reduced to the answer a scorer sees, with what was left aside.

    :param output: the answer.
    :param trace: the full result (messages, state, tool calls) for ``tool_calls``-style scorers.
    :param contexts: retrieved passages (LlamaIndex source nodes), for RAG scorers.
    """

    output: Any
    trace: Any = None
    contexts: list[Any] | None = None


OutputRule = Callable[[Any], "Extracted | None"]


@dataclass(frozen=True)
class Adapter:
    """How to call one kind of framework object.

    :param name: shown in the record as the target kind (``pydantic-ai``, ``langgraph``...).
    :param classes: dotted ``module.QualName`` prefixes of the classes it handles (MRO-wide).
    :param call: ``call(obj, input)`` returning the result or an awaitable of it.
    :param is_async: whether ``call`` returns an awaitable (run on the engine's event loop).
    :param stateful: the object keeps state between calls, so one instance must not serve rows
        running at once (give ``factory=``).
    """

    name: str
    classes: tuple[str, ...]
    call: Callable[[Any, Any], Any]
    is_async: bool = True
    exclude: tuple[str, ...] = field(default_factory=tuple)
    stateful: bool = False

    def matches(self, obj: Any) -> bool:
        if inspect.isclass(obj) or inspect.isroutine(obj):
            return False
        return is_instance_of(obj, *self.classes) and not is_instance_of(obj, *self.exclude)


def class_names(obj: Any) -> list[str]:
    """``module.QualName`` of each class in the MRO of ``obj``'s type."""
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(obj).__mro__]


def is_instance_of(obj: Any, *prefixes: str) -> bool:
    """Whether a class in ``obj``'s MRO is named by (or lives under) one of ``prefixes``."""
    if not prefixes:
        return False
    return any(name.startswith(prefixes) for name in class_names(obj))


def get(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for a mapping, else the attribute (a raising property counts as absent)."""
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    try:
        return getattr(obj, key, default)
    except Exception:  # noqa: BLE001 - a property that raises holds nothing for us
        return default


def text_of(message: Any) -> Any:
    """A chat message's text: ``.text`` when it is a string, else ``.content``."""
    content = get(message, "content")
    if isinstance(content, str):
        return content
    text = get(message, "text")
    if callable(text):  # LangChain < 1 had a text() method
        text = text()
    return text if isinstance(text, str) else content
