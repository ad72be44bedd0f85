"""Token usage read from what a target or a judge returned, in each framework's own shape."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pytest_datasetrun.record.results import Usage

__all__ = ("Usage", "read_usage", "sum_usage")

_INPUT = ("input_tokens", "prompt_tokens", "request_tokens")
_OUTPUT = ("output_tokens", "completion_tokens", "response_tokens")


def read_usage(obj: Any) -> Usage | None:
    """The tokens ``obj`` reports, or None when it carries no usage.

    Understood: OpenAI Chat and Responses results (``usage``, ``model``), LangChain messages
    (``usage_metadata``), LangGraph states (summed over their messages), pydantic-ai run results
    (``usage``), openai-agents (``context_wrapper.usage``), CrewAI and smolagents
    (``token_usage``), DSPy predictions (``get_lm_usage()``), Haystack replies (``meta['usage']``)
    and plain dicts with a ``usage`` key.
    """
    if obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return None
    for reader in _READERS:
        try:
            found = reader(obj)
        except Exception:  # noqa: BLE001 - a usage we cannot read is not a failed item
            found = None
        if found is not None:
            return found
    return None


def sum_usage(usages: Iterable[Usage | None]) -> Usage | None:
    """The sum of the usages that are not None (None when all are)."""
    total: Usage | None = None
    for usage in usages:
        if usage is not None:
            total = usage if total is None else total + usage
    return total


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key)
    try:
        return getattr(obj, key, None)
    except Exception:  # noqa: BLE001 - a property that raises holds no usage
        return None


def _int(obj: Any, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = _get(obj, key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _counts(raw: Any, model: str | None = None) -> Usage | None:
    if raw is None or isinstance(raw, (str, bytes)):
        return None
    inp, out, total = _int(raw, _INPUT), _int(raw, _OUTPUT), _int(raw, ("total_tokens",))
    if inp is None and out is None and total is None:
        return None
    inp, out = inp or 0, out or 0
    return Usage(input_tokens=inp, output_tokens=out, total_tokens=total or inp + out, model=model)


def _model(obj: Any) -> str | None:
    for key in ("model", "model_name"):
        value = _get(obj, key)
        if isinstance(value, str) and value:
            return value
    meta = _get(obj, "response_metadata")
    if isinstance(meta, Mapping):
        found = meta.get("model_name") or meta.get("model")
        return found if isinstance(found, str) else None
    return None


def _plain_usage(obj: Any) -> Usage | None:
    """OpenAI results, pydantic-ai run results (a property, or a method in older releases)."""
    raw = _get(obj, "usage")
    if raw is not None and _counts(raw) is None and callable(raw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = raw()
    counts = _counts(raw)
    if counts is None:
        return None
    model = _model(obj)
    if model is None and type(obj).__module__.startswith("pydantic_ai"):
        model = _model(_get(obj, "response"))
    return counts.model_copy(update={"model": model})


def _langchain(obj: Any) -> Usage | None:
    return _counts(_get(obj, "usage_metadata"), _model(obj))


def _openai_agents(obj: Any) -> Usage | None:
    return _counts(_get(_get(obj, "context_wrapper"), "usage"))


def _token_usage(obj: Any) -> Usage | None:
    return _counts(_get(obj, "token_usage"), _model(obj))


def _dspy(obj: Any) -> Usage | None:
    method = getattr(type(obj), "get_lm_usage", None)
    if not callable(method):
        return None
    per_model = method(obj)
    if not isinstance(per_model, Mapping):
        return None
    return sum_usage(_counts(raw, str(name)) for name, raw in per_model.items())


def _messages(obj: Any) -> Usage | None:
    """LangGraph states and message lists: the sum over every message that reports usage."""
    messages = _get(obj, "messages") if isinstance(obj, Mapping) else obj
    if not isinstance(messages, (list, tuple)):
        return None
    return sum_usage(_langchain(m) or _haystack_message(m) for m in messages)


def _haystack_message(obj: Any) -> Usage | None:
    meta = _get(obj, "meta")
    if not isinstance(meta, Mapping):
        return None
    return _counts(meta.get("usage"), meta.get("model"))


def _haystack_pipeline(obj: Any) -> Usage | None:
    """A pipeline's ``{component: {"replies": [ChatMessage, ...]}}``."""
    if not isinstance(obj, Mapping):
        return None
    outputs = [v for v in obj.values() if isinstance(v, Mapping)]
    return sum_usage(_messages(out.get("replies")) for out in outputs)


_READERS: tuple[Callable[[Any], Usage | None], ...] = (
    _openai_agents,
    _plain_usage,
    _langchain,
    _token_usage,
    _dspy,
    _haystack_message,
    _messages,
    _haystack_pipeline,
)
