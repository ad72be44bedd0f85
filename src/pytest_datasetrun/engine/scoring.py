"""Running an item's scorers, each in isolation: an exception or an invalid value errors one scorer.

The scorer functions are looked at once (:func:`~.scorer.context_names` is cached per function);
each call makes a light :class:`~pytest_datasetrun.record.light.ScoreRow`, not a model.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_datasetrun.engine.concurrency import ScorerTimeout, run_each_with_timeout
from pytest_datasetrun.engine.scorer import Scorer, context_names
from pytest_datasetrun.errors import describe_exception
from pytest_datasetrun.record.light import ScoreRow
from pytest_datasetrun.record.results import jsonable
from pytest_datasetrun.score import Score, coerce_score, score_value

__all__ = ("ScoringContext", "run_scorer", "run_scorers")

_NUMBERS = (float, bool, int)


@dataclass(slots=True)
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


def run_scorers(
    scorers: Sequence[Scorer],
    output: Any,
    context: ScoringContext,
    await_: Callable[[Any], Any],
    timeout: float | None = None,
) -> list[ScoreRow]:
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


def _timed_out(bound: Scorer, timeout: float) -> ScoreRow:
    return ScoreRow(
        bound.key,
        bound.name,
        threshold=_threshold(bound),
        error=f"ScorerTimeout: {ScorerTimeout(timeout)}",
        duration_s=float(timeout),
    )


def _refuse_metadata(bound: Scorer, metadata: Any) -> None:
    from pytest_datasetrun.record.results import ScorerResult

    ScorerResult(id=bound.key, name=bound.name, metadata=metadata)


def _threshold(bound: Scorer) -> float | None:
    return None if bound.threshold is None else float(bound.threshold)


def run_scorer(
    bound: Scorer,
    output: Any,
    context: ScoringContext,
    await_: Callable[[Any], Any],
) -> ScoreRow:
    """Run one scorer; any exception or invalid value makes an *errored* result, never a 0."""
    started = time.perf_counter()
    try:
        names = context_names(bound.fn)
        if names:
            raw = bound.fn(
                output, **{name: getattr(context, name) for name in names}, **bound.params
            )
        else:
            raw = bound.fn(output, **bound.params)
        if type(raw) in _NUMBERS:  # a plain number or bool: no Score to build
            value, reason, metadata = score_value(raw), None, None
        else:
            if type(raw) is not Score and inspect.isawaitable(raw):
                raw = await_(raw)
            score = coerce_score(raw)
            value = score.value
            reason = None if score.reason is None else str(score.reason)
            metadata = jsonable(score.metadata) if score.metadata else None
            if metadata is not None and type(metadata) is not dict:
                _refuse_metadata(bound, metadata)  # raises, as the model refuses it
        threshold = _threshold(bound)
        return ScoreRow(
            bound.key,
            bound.name,
            value,
            None if threshold is None else value >= threshold,
            threshold,
            reason,
            None,
            time.perf_counter() - started,
            metadata,
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - isolation is the point (pytest.fail/skip included)
        return ScoreRow(
            bound.key,
            bound.name,
            threshold=_threshold(bound),
            error=describe_exception(exc),
            duration_s=time.perf_counter() - started,
        )
