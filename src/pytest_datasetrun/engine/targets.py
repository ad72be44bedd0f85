"""Targets: the system under test, adapted from any callable, agent, runnable or workflow."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ("Target", "target", "TargetStatusError", "WORKFLOW_ERROR_STATUSES", "as_target")

F = TypeVar("F")
WORKFLOW_ERROR_STATUSES = ("failed", "tripwire", "suspended", "paused")
_MARK = "__datasetrun_target__"
# Parameter names that are filled by the engine, never looked up as pytest fixtures.
_ENGINE_PARAMS = ("item",)


class TargetStatusError(RuntimeError):
    """A workflow returned a status other than ``success``."""

    def __init__(self, status: str, detail: object = None) -> None:
        self.status = status
        message = f"workflow ended with status '{status}'"
        if detail not in (None, ""):
            message += f": {detail}"
        super().__init__(message)


@dataclass
class Target:
    """A registered target.

    :param id: unique id used by ``--target``.
    :param name: human name (``--target`` also matches it).
    :param obj: a callable ``f(input, **fixtures)``, or an agent (``generate``/``agenerate``), a
        runnable (``invoke``/``ainvoke``), or a workflow (``run``/``arun`` returning a status).
    :param scorers: scorers that run whenever this target runs (specs, ids or Scorer objects).
    :param version: part of the ``--cache`` key: a new version never reuses cached outputs.
    """

    id: str
    name: str
    obj: Any
    kind: str = ""
    scorers: Sequence[Any] = field(default_factory=tuple)
    description: str = ""
    method: str = ""
    fixture_names: tuple[str, ...] = ()
    wants_item: bool = False
    is_async: bool = False
    version: str = ""  # part of the call-cache key: bump it when the target's behaviour changes

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind, self.method = _detect(self.obj)
        elif not self.method:
            self.method = _METHODS.get(self.kind, ("",))[0]
        func = getattr(self.obj, self.method) if self.method else self.obj
        call_method = None if inspect.isroutine(func) else type(func).__dict__.get("__call__")
        self.is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
            call_method
        )
        if self.kind == "callable":
            names = _extra_params(func)
            self.wants_item = "item" in names
            self.fixture_names = tuple(name for name in names if name not in _ENGINE_PARAMS)

    def call(self, value: Any, kwargs: dict[str, Any]) -> Any:
        """Call the target; returns the output or an awaitable of it (workflow results unwrapped later)."""
        if self.kind == "callable":
            return self.obj(value, **kwargs)
        return getattr(self.obj, self.method)(value)

    def unwrap(self, result: Any) -> Any:
        """Turn a workflow result into its output, or raise for a non-success status."""
        if self.kind != "workflow":
            return result
        status = _get(result, "status")
        if status is None:
            return result
        if status == "success":
            for key in ("result", "output"):
                value = _get(result, key)
                if value is not None:
                    return value
            return None
        detail = _get(result, "error") or _get(result, "reason")
        raise TargetStatusError(str(status), detail)


_METHODS = {
    "agent": ("agenerate", "generate"),
    "runnable": ("ainvoke", "invoke"),
    "workflow": ("arun", "run"),
}


def _detect(obj: Any) -> tuple[str, str]:
    if not inspect.isroutine(obj) and not inspect.isclass(obj):
        for kind, methods in _METHODS.items():
            for method in methods:
                if callable(getattr(obj, method, None)):
                    return kind, method
    if callable(obj):
        return "callable", ""
    raise TypeError(
        f"{obj!r} is not a target: give a callable, or an object with generate/agenerate, "
        "invoke/ainvoke or run/arun"
    )


def _get(result: Any, key: str) -> Any:
    if isinstance(result, dict):
        return result.get(key)
    return getattr(result, key, None)


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
) -> Any:
    """Register a target. Use as ``@target``, ``@target(id=..., scorers=[...])`` or ``target(agent, id=...)``.

    Decorated functions stay callable; they are found in conftest files and plugins. For an object
    (agent, runnable, workflow) a :class:`Target` is returned: bind it to a name in a conftest.

    :param id: defaults to the function's ``__name__`` (or the object's ``id``/``name`` attribute).
    :param name: defaults to ``id``.
    :param scorers: scorers that always run with this target.
    :param kind: force ``callable``, ``agent``, ``runnable`` or ``workflow`` instead of detecting it.
    :param version: part of the ``--cache`` key; change it to stop reusing cached outputs.
    """

    def register(value: Any) -> Any:
        made = as_target(
            value,
            id=id,
            name=name,
            scorers=scorers,
            description=description,
            kind=kind,
            version=version,
        )
        if inspect.isroutine(value):
            setattr(value, _MARK, made)
            return value
        return made

    return register if obj is None else register(obj)


def as_target(value: Any, **overrides: Any) -> Target:
    """Turn a Target, a decorated function or a bare object into a :class:`Target`."""
    if isinstance(value, Target):
        return value
    marked = getattr(value, _MARK, None) if inspect.isroutine(value) else None
    if isinstance(marked, Target):
        return marked
    ident = overrides.get("id") or getattr(value, "__name__", None) or _attr_str(value, "id")
    ident = ident or _attr_str(value, "name") or type(value).__name__
    doc = overrides.get("description") or (inspect.getdoc(value) or "").split("\n")[0]
    return Target(
        id=ident,
        name=overrides.get("name") or _attr_str(value, "name") or ident,
        obj=value,
        kind=overrides.get("kind") or "",
        scorers=tuple(overrides.get("scorers") or ()),
        description=doc,
        version=overrides.get("version") or "",
    )


def _attr_str(value: Any, attr: str) -> str | None:
    found = getattr(value, attr, None)
    return found if isinstance(found, str) and found else None
