"""Scorers: definition, the ``@scorer`` decorator, and running one scorer in isolation."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pytest_datasetrun.engine.concurrency import ScorerTimeout, run_each_with_timeout
from pytest_datasetrun.errors import describe_exception
from pytest_datasetrun.score import Score, coerce_score

if TYPE_CHECKING:
    from pytest_datasetrun.record.results import ScorerResult

__all__ = (
    "Scorer",
    "scorer",
    "as_scorer",
    "CONTEXT_NAMES",
    "ScoringContext",
    "run_scorer",
    "run_scorers",
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
_PLAIN = (float, bool, int, Score)


@dataclass(frozen=True)
class ScoringContext:
    """What a scorer may ask for by parameter name, besides the output."""

    expected: Any
    input: Any
    item: Any
    metadata: dict[str, Any]
    duration: float
    trace: Any = None
    contexts: list[Any] | None = None
    retries: int = 0


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
        return _context_names(self.fn)

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


def _context_names(fn: Callable[..., Any]) -> tuple[str, ...]:
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


def run_scorers(
    scorers: Sequence[Scorer],
    output: Any,
    context: ScoringContext,
    await_: Callable[[Any], Any],
    timeout: float | None = None,
) -> list[ScorerResult]:
    """Run an item's scorers, results in their order; each one errors alone, never its siblings.

    With a ``timeout`` the sync scorers run one after another on a daemon thread, each abandoned
    past it (async ones are bounded by ``await_``), so a hanging judge errors its own scorer
    instead of hanging the session.
    """
    if timeout is None:
        return [run_scorer(s, output, context, await_) for s in scorers]
    is_sync = [not inspect.iscoroutinefunction(s.fn) for s in scorers]
    sync = [s for s, flag in zip(scorers, is_sync, strict=True) if flag]
    bounded = iter(
        run_each_with_timeout(
            [functools.partial(run_scorer, s, output, context, await_) for s in sync],
            timeout,
            lambda index: _timed_out(sync[index], timeout),
        )
    )
    return [
        next(bounded) if flag else run_scorer(s, output, context, await_)
        for s, flag in zip(scorers, is_sync, strict=True)
    ]


def _timed_out(bound: Scorer, timeout: float) -> ScorerResult:
    from pytest_datasetrun.record.results import ScorerResult

    return ScorerResult(
        id=bound.key,
        name=bound.name,
        threshold=bound.threshold,
        error=f"ScorerTimeout: {ScorerTimeout(timeout)}",
        duration_s=timeout,
    )


def run_scorer(
    bound: Scorer,
    output: Any,
    context: ScoringContext,
    await_: Callable[[Any], Any],
) -> ScorerResult:
    """Run one scorer; any exception or invalid value makes an *errored* result, never a 0."""
    from pytest_datasetrun.record.results import (  # pydantic: loaded only once a dataset runs
        ScorerResult,
        jsonable,
    )

    started = time.perf_counter()
    try:
        kwargs = {name: getattr(context, name) for name in bound.context_names}
        raw = bound.fn(output, **kwargs, **bound.params)
        if type(raw) not in _PLAIN and inspect.isawaitable(raw):  # skip the check for plain scores
            raw = await_(raw)
        score = coerce_score(raw)
        return ScorerResult(
            id=bound.key,
            name=bound.name,
            value=score.value,
            passed=None if bound.threshold is None else score.value >= bound.threshold,
            threshold=bound.threshold,
            reason=None if score.reason is None else str(score.reason),
            metadata=jsonable(score.metadata) if score.metadata else {},
            duration_s=time.perf_counter() - started,
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - isolation is the point (pytest.fail/skip included)
        return ScorerResult(
            id=bound.key,
            name=bound.name,
            threshold=bound.threshold,
            error=describe_exception(exc),
            duration_s=time.perf_counter() - started,
        )
