"""Evaluating one dataset item: call the target (timeouts, retries, repeats), then every scorer.

Nothing here depends on pytest, so scripts (``run_dataset``) and the plugin share it.
"""

from __future__ import annotations

import inspect
import random
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .concurrency import LoopThread, TargetTimeout, run_with_timeout
from .dataset import DatasetItem
from .results import ItemResult, RepeatResult, ScorerResult, jsonable
from .scoring import Scorer, ScoringContext, run_scorer
from .targets import Target

__all__ = ("Settings", "Engine", "Outcome", "REPEAT_POLICIES")

REPEAT_POLICIES = ("all", "majority", "any")


@dataclass(frozen=True)
class Settings:
    """Execution options that change how an item is evaluated.

    :param repeat_policy: ``all``, ``majority``, ``any`` or ``rate:R`` (share of passing repeats).
    """

    timeout: float | None = None
    max_retries: int = 0
    retry_on: tuple[str, ...] = ()
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    repeat: int = 1
    repeat_policy: str = "all"


@dataclass
class Outcome:
    """An item's result plus the live exception of its target (for a traceback in pytest)."""

    result: ItemResult
    exception: BaseException | None = None


@dataclass
class _Attempt:
    output: Any = None
    exception: BaseException | None = None
    attempts: int = 1
    duration: float = 0.0
    scores: list[ScorerResult] = field(default_factory=list)


class Engine:
    """Evaluates items against one target and a list of scorers."""

    def __init__(
        self,
        target: Target,
        scorers: Sequence[Scorer],
        settings: Settings | None = None,
        *,
        loop: LoopThread | None = None,
        row_scorers: Callable[[DatasetItem], Sequence[Scorer]] | None = None,
        should_retry: Callable[[BaseException, int], bool | None] | None = None,
    ) -> None:
        self.target = target
        self.scorers = list(scorers)
        self.settings = settings or Settings()
        self.loop = loop or LoopThread()
        self._row_scorers = row_scorers
        self._should_retry = should_retry
        self.cancelled = threading.Event()

    def evaluate(
        self, item: DatasetItem, kwargs: dict[str, Any] | None = None, *, node_id: str = ""
    ) -> Outcome:
        """Evaluate one item; exceptions of the target are recorded, BaseExceptions propagate."""
        kwargs = dict(kwargs or {})
        if self.target.wants_item:
            kwargs["item"] = item
        started_at = time.time()
        started = time.perf_counter()
        scorers = self._scorers_for(item)
        runs = [self._attempt(item, kwargs, scorers) for _ in range(max(1, self.settings.repeat))]
        result = self._result(item, node_id, runs, scorers)
        result.started_at = started_at
        result.duration_s = time.perf_counter() - started
        result.finished_at = started_at + result.duration_s
        first_error = next((run.exception for run in runs if run.exception is not None), None)
        return Outcome(
            result, first_error if len(runs) == 1 or result.status == "errored" else None
        )

    def _scorers_for(self, item: DatasetItem) -> list[Scorer]:
        if not item.scorers or self._row_scorers is None:
            return self.scorers
        extra = {s.key: s for s in self._row_scorers(item)}
        merged = [extra.pop(s.key, s) for s in self.scorers]
        return merged + list(extra.values())

    def _attempt(
        self, item: DatasetItem, kwargs: dict[str, Any], scorers: list[Scorer]
    ) -> _Attempt:
        run = self._call_target(item.input, kwargs)
        if run.exception is None:
            context = ScoringContext(item.expected, item.input, item, item.metadata, run.duration)
            run.scores = [run_scorer(s, run.output, context, self._await) for s in scorers]
        return run

    def _call_target(self, value: Any, kwargs: dict[str, Any]) -> _Attempt:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                output = self.target.unwrap(self._invoke(value, kwargs))
                return _Attempt(
                    output=output, attempts=attempt, duration=time.perf_counter() - started
                )
            except Exception as exc:  # noqa: BLE001 - recorded as the item's target error
                duration = time.perf_counter() - started
                if attempt > self.settings.max_retries or not self._retryable(exc, attempt):
                    return _Attempt(exception=exc, attempts=attempt, duration=duration)
            delay = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1))
            if self.cancelled.wait(delay * random.uniform(0.5, 1.5)):
                return _Attempt(
                    exception=RuntimeError("cancelled while waiting to retry"), attempts=attempt
                )

    def _invoke(self, value: Any, kwargs: dict[str, Any]) -> Any:
        timeout = self.settings.timeout
        if self.target.is_async:
            return self.loop.run(self.target.call(value, kwargs), timeout)
        if timeout is None:
            output = self.target.call(value, kwargs)
        else:
            output = run_with_timeout(lambda: self.target.call(value, kwargs), timeout)
        return self._await(output) if inspect.isawaitable(output) else output

    def _await(self, awaitable: Any) -> Any:
        return self.loop.run(awaitable, self.settings.timeout)

    def _retryable(self, exc: BaseException, attempt: int) -> bool:
        if self._should_retry is not None:
            verdict = self._should_retry(exc, attempt)
            if verdict is not None:
                return bool(verdict)
        names = self.settings.retry_on
        if not names:
            return not isinstance(exc, TargetTimeout)
        mro = type(exc).__mro__
        return any(
            name in (cls.__name__, f"{cls.__module__}.{cls.__qualname__}")
            for cls in mro
            for name in names
        )

    def _result(
        self, item: DatasetItem, node_id: str, runs: list[_Attempt], scorers: list[Scorer]
    ) -> ItemResult:
        result = ItemResult(
            item_id=item.id,
            node_id=node_id,
            index=item.index,
            input=item.input,
            expected=item.expected,
            tags=item.tags,
            metadata=item.metadata,
        )
        first = runs[0]
        result.output = jsonable(first.output)
        result.attempts = sum(run.attempts for run in runs)
        result.target_duration_s = statistics.fmean(run.duration for run in runs)
        if len(runs) == 1:
            result.scores = first.scores
            if first.exception is not None:
                _set_error(result, first.exception)
            result.status = _status(first)
            return result
        result.repeats = [
            RepeatResult(
                output=jsonable(run.output),
                error=_describe(run.exception) if run.exception else None,
                scores=run.scores,
                duration_s=run.duration,
                passed=_status(run) == "passed",
            )
            for run in runs
        ]
        result.scores = [_reduce(scorer, runs) for scorer in scorers]
        verdicts = [repeat.passed for repeat in result.repeats]
        errored = [run for run in runs if run.exception is not None]
        if len(errored) == len(runs):
            _set_error(result, errored[0].exception)
            result.status = "errored"
        elif any(score.error for score in result.scores):
            result.status = "errored"
        else:
            result.status = (
                "passed" if _policy_passes(self.settings.repeat_policy, verdicts) else "failed"
            )
        return result


def _status(run: _Attempt) -> str:
    if run.exception is not None or any(score.error for score in run.scores):
        return "errored"
    return "failed" if any(score.passed is False for score in run.scores) else "passed"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _set_error(result: ItemResult, exc: BaseException | None) -> None:
    if exc is not None:
        result.error = _describe(exc)
        result.error_type = type(exc).__name__


def _reduce(scorer: Scorer, runs: list[_Attempt]) -> ScorerResult:
    per_run = [next((s for s in run.scores if s.id == scorer.key), None) for run in runs]
    scored = [s for s in per_run if s is not None]
    values = [s.value for s in scored if s.value is not None]
    errors = [s.error for s in scored if s.error]
    reduced = ScorerResult(
        id=scorer.key,
        name=scorer.name,
        threshold=scorer.threshold,
        duration_s=sum(s.duration_s for s in scored),
        metadata={"repeat_values": [s.value for s in scored], "repeats": len(runs)},
    )
    if values:
        reduced.value = statistics.fmean(values)
        if scorer.threshold is not None:
            reduced.passed = reduced.value >= scorer.threshold
        reduced.reason = f"mean of {len(values)} repeats"
    elif errors:
        reduced.error = errors[0]
    if errors and values:
        reduced.reason = f"mean of {len(values)} repeats; {len(errors)} errored: {errors[0]}"
    return reduced


def _policy_passes(policy: str, verdicts: list[bool]) -> bool:
    passed = sum(verdicts)
    if policy == "all":
        return passed == len(verdicts)
    if policy == "any":
        return passed > 0
    if policy == "majority":
        return passed * 2 > len(verdicts)
    if policy.startswith("rate:"):
        return passed / len(verdicts) >= float(policy[5:])
    raise ValueError(f"unknown repeat policy {policy!r}")
