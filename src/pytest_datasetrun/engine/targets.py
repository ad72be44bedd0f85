"""Targets: the system under test, adapted from any callable, agent, runnable, workflow or framework."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pytest_datasetrun.engine.adapters import Adapter, Extracted, find_adapter
from pytest_datasetrun.engine.outputs import (
    WORKFLOW_ERROR_STATUSES,
    WORKFLOW_SUCCESS_STATUSES,
    TargetStatusError,
    read_output,
    unwrap_status,
)
from pytest_datasetrun.errors import ConfigError

__all__ = (
    "Target",
    "target",
    "TargetStatusError",
    "WORKFLOW_ERROR_STATUSES",
    "WORKFLOW_SUCCESS_STATUSES",
    "as_target",
    "NotATarget",
)

F = TypeVar("F")
_MARK = "__datasetrun_target__"
# Parameter names that are filled by the engine, never looked up as pytest fixtures.
_ENGINE_PARAMS = ("item",)
# Duck-typed kinds, tried in this order after the framework adapters; a runnable before an agent,
# because LangChain-style objects keep a legacy generate() beside invoke().
_METHODS = {
    "runnable": ("ainvoke", "invoke"),
    "agent": ("agenerate", "generate"),
    "workflow": ("arun", "run"),
}
_LOOKED_FOR = "__call__, ainvoke/invoke, agenerate/generate, arun/run or a known framework type"


class NotATarget(ConfigError):
    """An object that no adapter, method or call signature makes into a target."""


@dataclass
class Target:
    """A registered target.

    :param id: unique id used by ``--target``.
    :param name: human name (``--target`` also matches it).
    :param obj: a callable ``f(input, **fixtures)``, a framework object (pydantic-ai, LangChain,
        LangGraph, openai-agents, DSPy, LlamaIndex, Haystack, CrewAI, smolagents), or an object
        with ``invoke``/``ainvoke`` (runnable), ``generate``/``agenerate`` (agent) or
        ``run``/``arun`` (workflow returning a status).
    :param kind: ``callable``, ``runnable``, ``agent``, ``workflow`` or an adapter's name
        (``pydantic-ai``, ``langgraph``...); detected when empty.
    :param method: the method to call with the row's input (instead of the kind's).
    :param output: what a scorer sees: a callable ``result -> output`` or a dotted path
        (``"final_output"``, ``"choices.0.message.content"``); built-in rules when unset.
    :param factory: builds a fresh object per call (``factory_scope="call"``) or per thread
        (``"thread"``), for agents that keep state between calls.
    :param scorers: scorers that run whenever this target runs (specs, ids or Scorer objects).
    :param version: part of the ``--cache`` key: a new version never reuses cached outputs.
    """

    id: str
    name: str
    obj: Any = None
    kind: str = ""
    scorers: Sequence[Any] = field(default_factory=tuple)
    description: str = ""
    method: str = ""
    output: Callable[[Any], Any] | str | None = None
    factory: Callable[[], Any] | None = None
    factory_scope: str = "call"
    fixture_names: tuple[str, ...] = ()
    wants_item: bool = False
    is_async: bool = False
    version: str = ""  # part of the call-cache key: bump it when the target's behaviour changes
    adapter: Adapter | None = field(default=None, repr=False)
    problem: str | None = None

    def __post_init__(self) -> None:
        if self.factory_scope not in ("call", "thread"):
            raise ConfigError(f"target {self.id!r}: factory_scope must be 'call' or 'thread'")
        self._local = threading.local()
        if self.factory is not None:
            self.kind = self.kind or "factory"
            return  # detected per built object, on first use
        try:
            self.kind, self.method, self.adapter = _detect(self.obj, self.kind, self.method)
        except NotATarget as exc:
            self.problem = str(exc)
            return
        func = self._function(self.obj)
        self.is_async = _is_async(func) if self.adapter is None else self.adapter.is_async
        if self.kind == "callable":
            names = _extra_params(func)
            self.wants_item = "item" in names
            self.fixture_names = tuple(name for name in names if name not in _ENGINE_PARAMS)

    def check(self) -> None:
        """Raise the one-line :class:`NotATarget` error if the object cannot be called."""
        if self.problem:
            raise NotATarget(f"target {self.id!r}: {self.problem}")

    def sharing_warning(self, concurrency: int) -> str | None:
        """Why one shared instance is unsafe at this concurrency, if it is (stateful agents)."""
        if concurrency <= 1 or self.adapter is None or not self.adapter.stateful:
            return None
        return (
            f"target {self.id!r} is one {self.adapter.name} agent shared by {concurrency} rows at "
            f"once, and it keeps state between calls: give dr.target(factory=make_agent, "
            f"id={self.id!r}) so that each call gets its own"
        )

    def call(self, value: Any, kwargs: dict[str, Any]) -> Any:
        """Call the target; returns its result or an awaitable of it."""
        if self.factory is not None:
            return self._call_built(value)
        if self.adapter is not None:
            return self.adapter.call(self.obj, value)
        if self.kind == "callable":
            return self.obj(value, **kwargs)
        return getattr(self.obj, self.method)(value)

    def extract(self, result: Any) -> Extracted:
        """Turn a result into what a scorer sees: status check, then the output rule."""
        if self.kind == "workflow":
            result = unwrap_status(result)
        return read_output(result, self.output)

    def _function(self, obj: Any) -> Any:
        return getattr(obj, self.method) if self.method else obj

    def _call_built(self, value: Any) -> Any:
        obj = self._built()
        kind, method, adapter = _detect(
            obj, "" if self.kind == "factory" else self.kind, self.method
        )
        if adapter is not None:
            return adapter.call(obj, value)
        if kind == "workflow":
            self.kind = "workflow"  # status words apply to what the built workflows return
        return getattr(obj, method)(value) if method else obj(value)

    def _built(self) -> Any:
        assert self.factory is not None
        if self.factory_scope == "call":
            return self.factory()
        if not hasattr(self._local, "obj"):
            self._local.obj = self.factory()
        return self._local.obj


def _is_async(func: Any) -> bool:
    call_method = None if inspect.isroutine(func) else type(func).__dict__.get("__call__")
    return any(
        inspect.iscoroutinefunction(f) or inspect.iscoroutinefunction(inspect.unwrap(f))
        for f in (func, call_method)
        if f is not None
    )


def _detect(obj: Any, kind: str, method: str) -> tuple[str, str, Adapter | None]:
    """``(kind, method, adapter)`` for ``obj``: forced by ``kind``/``method``, else detected."""
    if method:
        if not callable(getattr(obj, method, None)):
            raise NotATarget(f"{type(obj).__name__} has no method {method!r}")
        return kind or "method", method, None
    if kind in _METHODS:
        found = next((m for m in _METHODS[kind] if callable(getattr(obj, m, None))), None)
        if found is None:
            raise NotATarget(f"{type(obj).__name__} has none of {'/'.join(_METHODS[kind])}")
        return kind, found, None
    if kind and kind != "callable":
        adapter = find_adapter(obj, kind)
        if adapter is None:
            raise NotATarget(f"unknown kind {kind!r}")
        return kind, "", adapter
    adapter = None if kind else find_adapter(obj)
    if adapter is not None:
        return adapter.name, "", adapter
    return _duck_type(obj, kind)


def _duck_type(obj: Any, kind: str) -> tuple[str, str, None]:
    if not kind and not inspect.isroutine(obj) and not inspect.isclass(obj):
        for found_kind, methods in _METHODS.items():
            for method in methods:
                if callable(getattr(obj, method, None)):
                    return found_kind, method, None
    if callable(obj) and not inspect.isclass(obj):
        return "callable", "", None
    hint = (
        "pass an instance, not the class"
        if inspect.isclass(obj)
        else "wrap it in a function f(input) that calls it, or give "
        "dr.target(obj, method='...', output='...')"
    )
    name = _type_name(obj)
    article = "an" if name[0].lower() in "aeiou" else "a"
    raise NotATarget(f"{article} {name} is not a target: looked for {_LOOKED_FOR}; {hint}")


def _type_name(obj: Any) -> str:
    cls = obj if inspect.isclass(obj) else type(obj)
    return (
        f"{cls.__module__}.{cls.__qualname__}" if cls.__module__ != "builtins" else cls.__qualname__
    )


def _extra_params(func: Callable[..., Any]) -> list[str]:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    rest = positional[1:] + [p for p in params if p.kind == p.KEYWORD_ONLY]
    return [p.name for p in rest if p.default is p.empty or p.name == "item"]


def target(
    obj: Any = None,
    *,
    id: str | None = None,
    name: str | None = None,
    scorers: Sequence[Any] = (),
    description: str | None = None,
    kind: str | None = None,
    version: str | None = None,
    method: str | None = None,
    output: Callable[[Any], Any] | str | None = None,
    factory: Callable[[], Any] | None = None,
    factory_scope: str = "call",
) -> Any:
    """Register a target: ``@target``, ``@target(id=...)``, ``target(agent, id=...)`` or ``target(factory=make, id=...)``.

    Decorated functions stay callable; they are found in conftest files and plugins. For an object
    (agent, runnable, workflow, framework object) a :class:`Target` is returned: bind it to a name
    in a conftest.

    :param id: defaults to the function's ``__name__`` (or the object's ``id``/``name`` attribute).
    :param name: defaults to ``id``.
    :param scorers: scorers that always run with this target.
    :param kind: force ``callable``, ``runnable``, ``agent``, ``workflow`` or an adapter name.
    :param method: call this method of the object with the row's input.
    :param output: a callable or dotted path turning the result into what scorers see.
    :param factory: a zero-argument callable building a fresh object per call (or per thread).
    :param factory_scope: ``call`` (default) or ``thread``.
    :param version: part of the ``--cache`` key; change it to stop reusing cached outputs.
    """
    options = {
        "id": id,
        "name": name,
        "scorers": scorers,
        "description": description,
        "kind": kind,
        "method": method,
        "output": output,
        "factory": factory,
        "factory_scope": factory_scope,
        "version": version,
    }

    def register(value: Any) -> Any:
        made = as_target(value, **options)
        if inspect.isroutine(value) and factory is None:
            setattr(value, _MARK, made)
            return value
        return made

    if factory is not None:
        return register(None)
    return register if obj is None else register(obj)


def as_target(value: Any, **overrides: Any) -> Target:
    """Turn a Target, a decorated function or a bare object into a :class:`Target`."""
    if isinstance(value, Target):
        return value
    marked = getattr(value, _MARK, None) if inspect.isroutine(value) else None
    if isinstance(marked, Target):
        return marked
    source = overrides.get("factory") or value
    ident = overrides.get("id") or getattr(source, "__name__", None) or _attr_str(value, "id")
    ident = ident or _attr_str(value, "name") or type(value).__name__
    doc = overrides.get("description") or (inspect.getdoc(source) or "").split("\n")[0]
    return Target(
        id=ident,
        name=overrides.get("name") or _attr_str(value, "name") or ident,
        obj=value,
        kind=overrides.get("kind") or "",
        scorers=tuple(overrides.get("scorers") or ()),
        description=doc,
        version=overrides.get("version") or "",
        method=overrides.get("method") or "",
        output=overrides.get("output"),
        factory=overrides.get("factory"),
        factory_scope=overrides.get("factory_scope") or "call",
    )


def _attr_str(value: Any, attr: str) -> str | None:
    found = getattr(value, attr, None)
    return found if isinstance(found, str) and found else None
