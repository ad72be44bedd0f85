"""Evaluating one dataset item: call the target (timeouts, retries, repeats), then every scorer.

Nothing here depends on pytest, so scripts (``run_dataset``) and the plugin share it.
"""

from __future__ import annotations

import inspect
import statistics
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_datasetrun.data.dataset import DatasetItem
from pytest_datasetrun.engine.attempt import (
    Attempt,
    attempt_from,
    attempt_status,
    cancelled_retry,
    error_fields,
    provenance,
    replayed,
)
from pytest_datasetrun.engine.concurrency import (
    LoopThread,
    ScorerTimeout,
    TargetTimeout,
    run_with_timeout,
)
from pytest_datasetrun.engine.isolation import call_arguments
from pytest_datasetrun.engine.outputs import is_repr_only
from pytest_datasetrun.engine.repeats import REPEAT_POLICIES, repeated_fields
from pytest_datasetrun.engine.scorer import Scorer
from pytest_datasetrun.engine.scoring import ScoringContext, run_scorers
from pytest_datasetrun.engine.targets import Target
from pytest_datasetrun.engine.usage import sum_usage
from pytest_datasetrun.record.light import ResultRow
from pytest_datasetrun.record.results import ItemResult, jsonable
from pytest_datasetrun.scorers.transient import backoff_delay, is_transient

if TYPE_CHECKING:
    from pytest_datasetrun.engine.cache import CallCache
    from pytest_datasetrun.engine.replay import ReplaySource

__all__ = ("Settings", "Engine", "Outcome", "RowOutcome", "FirstCall", "REPEAT_POLICIES")


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
    # An attempt whose target failed counts as 0 in a repeated row's mean ("zero", issue 10.2)
    # or is left out of it ("exclude", --target-errors=exclude).
    target_errors: str = "zero"


@dataclass
class Outcome:
    """An item's result plus the live exception of its target (for a traceback in pytest)."""

    result: ItemResult
    exception: BaseException | None = None


@dataclass
class FirstCall:
    """A row's first target call made before :meth:`Engine.evaluate` (engine.asynccall)."""

    attempt: Attempt
    started_at: float
    started: float


@dataclass
class RowOutcome:
    """:class:`Outcome` with the light result the plugin makes per row."""

    result: ResultRow
    exception: BaseException | None = None


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
        cache: CallCache | None = None,
        replay: ReplaySource | None = None,
    ) -> None:
        self.target = target
        self.scorers = list(scorers)
        self.settings = settings or Settings()
        self.loop = loop or LoopThread()
        self._row_scorers = row_scorers
        self._should_retry = should_retry
        self.cancelled = threading.Event()
        self.cache = cache
        self.replay = replay

    def evaluate(
        self,
        item: DatasetItem,
        kwargs: dict[str, Any] | None = None,
        *,
        node_id: str = "",
        dataset: str = "",
        worker: str | None = None,
        first: FirstCall | None = None,
    ) -> Outcome:
        """Evaluate one item; exceptions of the target are recorded, BaseExceptions propagate.

        ``first``: the first call, already made (its scoring and any further repeats follow).
        """
        outcome = self.evaluate_row(
            item, kwargs, node_id=node_id, dataset=dataset, worker=worker, first=first
        )
        return Outcome(outcome.result.model(), outcome.exception)

    def evaluate_row(
        self,
        item: DatasetItem,
        kwargs: dict[str, Any] | None = None,
        *,
        node_id: str = "",
        dataset: str = "",
        worker: str | None = None,
        first: FirstCall | None = None,
    ) -> RowOutcome:
        """:meth:`evaluate`, the result as a light :class:`ResultRow` (the plugin's hot path)."""
        kwargs = dict(kwargs) if kwargs else {}
        started_at = time.time() if first is None else first.started_at
        started = time.perf_counter() if first is None else first.started
        scorers = self._scorers_for(item)
        repeats = range(max(1, self.settings.repeat))
        made = None if first is None else first.attempt
        runs = [
            self._attempt(item, kwargs, scorers, dataset, n, made if n == 0 else None)
            for n in repeats
        ]
        fields = self._outcome_fields(runs, scorers)
        fields.update(provenance(runs, self.cache is not None))
        duration = time.perf_counter() - started
        result = ResultRow(
            item_id=item.id,
            node_id=node_id,
            dataset=dataset,
            index=item.index,
            input=item.input,
            expected=item.expected,
            tags=item.tags,
            metadata=item.metadata,
            started_at=started_at,
            duration_s=duration,
            finished_at=started_at + duration,
            worker=worker,
            **fields,
        )
        first_error = next((run.exception for run in runs if run.exception is not None), None)
        return RowOutcome(
            result, first_error if len(runs) == 1 or result.status == "errored" else None
        )

    def _scorers_for(self, item: DatasetItem) -> list[Scorer]:
        if not item.scorers or self._row_scorers is None:
            return self.scorers
        extra = {s.key: s for s in self._row_scorers(item)}
        merged = [extra.pop(s.key, s) for s in self.scorers]
        return merged + list(extra.values())

    def _attempt(
        self,
        item: DatasetItem,
        kwargs: dict[str, Any],
        scorers: list[Scorer],
        dataset: str = "",
        repeat: int = 0,
        made: Attempt | None = None,
    ) -> Attempt:
        run = made if made is not None else self._fetch(item, kwargs, dataset, repeat)
        if run.exception is None:
            context = ScoringContext(
                item.expected,
                item.input,
                item,
                item.metadata,
                run.duration,
                trace=run.trace,
                contexts=run.contexts,
                retries=self.settings.max_retries,
            )
            run.scores = run_scorers(
                scorers, run.output, context, self._await_scorer, self.settings.timeout
            )
        return run

    def _fetch(
        self, item: DatasetItem, kwargs: dict[str, Any], dataset: str, repeat: int
    ) -> Attempt:
        """The output of one call: replayed, cached, or from calling the target."""
        if self.replay is not None:
            recalled = self.replay.recall(item, dataset, repeat)
            if recalled is not None:
                return replayed(recalled)
        if self.cache is None:
            return self._call_target(item, kwargs)
        from pytest_datasetrun.engine.cache import call_key

        target = self.target
        key = call_key(target.id, target.version, item.input, repeat)
        entry, problem = self.cache.get(key)
        if entry is not None:
            return Attempt(
                output=entry.output,
                usage=entry.usage,
                duration=entry.duration,
                via="cache",
                cache_events=("hit",),
            )
        if problem is not None:
            warnings.warn(
                f"datasetrun: the cache entry of row {item.id!r} (repeat {repeat + 1}) is corrupt: "
                f"{problem}; treated as a miss and rewritten",
                RuntimeWarning,
                stacklevel=2,
            )
        run = self._call_target(item, kwargs)
        events = ("miss",) if problem is None else ("miss", "corrupt")
        if run.exception is None and self.cache.put(
            key, target.id, run.output, run.usage, run.duration
        ):
            events += ("write",)
        run.cache_events = events
        return run

    def _call_target(self, item: DatasetItem, kwargs: dict[str, Any]) -> Attempt:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                # A fresh copy of the row per call (#11): see engine.isolation.
                raw = self._invoke(*call_arguments(item, kwargs, self.target.wants_item))
                return attempt_from(self.target, raw, attempt, started)
            except Exception as exc:  # noqa: BLE001 - recorded as the item's target error
                after = self.after_failure(exc, attempt, started)
                if isinstance(after, Attempt):
                    return after
            if self.cancelled.wait(after):
                return cancelled_retry(attempt)

    def after_failure(self, exc: Exception, attempt: int, started: float) -> Attempt | float:
        """After a failed target call: the row's final attempt, or the delay before retrying."""
        if attempt > self.settings.max_retries or not self._retryable(exc, attempt):
            return Attempt(exception=exc, attempts=attempt, duration=time.perf_counter() - started)
        return backoff_delay(
            exc, attempt, base=self.settings.backoff_base, cap=self.settings.backoff_max
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

    def _await_scorer(self, awaitable: Any) -> Any:
        return self.loop.run(awaitable, self.settings.timeout, timeout_error=ScorerTimeout)

    def _retryable(self, exc: BaseException, attempt: int) -> bool:
        if self._should_retry is not None:
            verdict = self._should_retry(exc, attempt)
            if verdict is not None:
                return bool(verdict)
        names = self.settings.retry_on
        if not isinstance(exc, TargetTimeout) and is_transient(exc):
            return True
        mro = type(exc).__mro__
        return any(
            name in (cls.__name__, f"{cls.__module__}.{cls.__qualname__}")
            for cls in mro
            for name in names
        )

    def _outcome_fields(self, runs: list[Attempt], scorers: list[Scorer]) -> dict[str, Any]:
        first = runs[0]
        output = jsonable(first.output)
        fields: dict[str, Any] = {
            "output": output,
            "output_is_repr": is_repr_only(first.output, output),
            "trace": None if first.trace is None else jsonable(first.trace),
            "contexts": None if first.contexts is None else jsonable(first.contexts),
            "attempts": first.attempts,
            "target_duration_s": float(first.duration),  # fmean of one value: the value
            "usage": first.usage,
        }
        if len(runs) == 1:
            fields["scores"] = first.scores
            fields["status"] = attempt_status(first)
            fields.update(error_fields(first.exception))
            return fields
        fields.update(
            attempts=sum(run.attempts for run in runs),
            target_duration_s=statistics.fmean(run.duration for run in runs),
            usage=sum_usage(run.usage for run in runs),
        )
        fields.update(
            repeated_fields(runs, scorers, self.settings.repeat_policy, self.settings.target_errors)
        )
        return fields
