"""Scorers: definition and the ``@scorer`` decorator (:mod:`.scoring` runs them)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = (
    "Scorer",
    "scorer",
    "as_scorer",
    "CONTEXT_NAMES",
    "context_names",
)

CONTEXT_NAMES = (
    "expected",
    "input",
    "item",
    "metadata",
    "duration",
    "trace",
    "contexts",
    "retries",
)
_MARK = "__datasetrun_scorer__"


@dataclass(frozen=True)
class Scorer:
    """A scorer bound to its parameters and threshold.

    :param id: unique id; ``--scorer`` matches it (then ``name``).
    :param fn: ``fn(output, [expected, input, item, metadata, duration], **params)``, sync or async,
        returning a float in [0, 1], a bool or a :class:`~pytest_datasetrun.Score`.
    :param threshold: value below which the item fails; ``None`` only records.
    :param key: the column the results are stored under (an alias, or ``id``).
    """

    id: str
    name: str
    fn: Callable[..., Any]
    threshold: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.id)

    @property
    def context_names(self) -> tuple[str, ...]:
        return context_names(self.fn)

    @property
    def param_names(self) -> tuple[str, ...] | None:
        """Names ``params`` may use, or None when the function takes ``**kwargs``."""
        try:
            parameters = inspect.signature(self.fn).parameters.values()
        except (TypeError, ValueError):
            return None
        if any(p.kind is p.VAR_KEYWORD for p in parameters):
            return None
        return tuple(p.name for p in parameters if p.name not in CONTEXT_NAMES)[1:] or ()

    def bind(self, params: dict[str, Any], threshold: float | None, key: str | None) -> Scorer:
        return replace(
            self,
            params={**self.params, **params},
            threshold=self.threshold if threshold is None else threshold,
            key=key or self.key,
        )


_CONTEXT_CACHE: dict[Callable[..., Any], tuple[str, ...]] = {}


def context_names(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The context names ``fn`` takes, in :data:`CONTEXT_NAMES` order (looked up once per function)."""
    cached = _CONTEXT_CACHE.get(fn)
    if cached is None:
        try:
            names = set(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            names = set()
        cached = tuple(name for name in CONTEXT_NAMES if name in names)
        _CONTEXT_CACHE[fn] = cached
    return cached


def scorer(
    fn: Callable[..., Any] | None = None,
    *,
    id: str | None = None,
    name: str | None = None,
    threshold: float | None = None,
    description: str | None = None,
) -> Any:
    """Register a scorer: ``@scorer`` or ``@scorer(id=..., threshold=0.8)``. The function stays callable."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(
            func,
            _MARK,
            as_scorer(func, id=id, name=name, threshold=threshold, description=description),
        )
        return func

    return register if fn is None else register(fn)


def as_scorer(value: Any, **overrides: Any) -> Scorer:
    """Turn a Scorer, a decorated function or a bare function into a :class:`Scorer`."""
    if isinstance(value, Scorer):
        return value
    marked = getattr(value, _MARK, None)
    if isinstance(marked, Scorer):
        return marked
    if not callable(value):
        raise TypeError(f"{value!r} is not a scorer: give a function or a Scorer")
    ident = overrides.get("id") or getattr(value, "__name__", None) or type(value).__name__
    return Scorer(
        id=ident,
        name=overrides.get("name") or ident,
        fn=value,
        threshold=overrides.get("threshold"),
        description=overrides.get("description") or (inspect.getdoc(value) or "").split("\n")[0],
    )
