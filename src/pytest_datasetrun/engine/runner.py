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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_datasetrun.data.dataset import DatasetItem
from pytest_datasetrun.engine.concurrency import (
    LoopThread,
    ScorerTimeout,
    TargetTimeout,
    run_with_timeout,
)
from pytest_datasetrun.engine.isolation import call_arguments
from pytest_datasetrun.engine.outputs import is_repr_only
from pytest_datasetrun.engine.scorer import Scorer, ScoringContext, run_scorers
from pytest_datasetrun.engine.targets import Target
from pytest_datasetrun.engine.usage import read_usage, sum_usage
from pytest_datasetrun.errors import describe_exception
from pytest_datasetrun.record.results import (
    ItemResult,
    RepeatResult,
    ScorerResult,
    Usage,
    Via,
    jsonable,
)
from pytest_datasetrun.scorers.transient import backoff_delay, is_transient

if TYPE_CHECKING:
    from pytest_datasetrun.engine.cache import CallCache
    from pytest_datasetrun.engine.replay import ReplaySource

__all__ = ("Settings", "Engine", "Outcome", "FirstCall", "REPEAT_POLICIES")

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
    # An attempt whose target failed counts as 0 in a repeated row's mean ("zero", issue 10.2)
    # or is left out of it ("exclude", --target-errors=exclude).
    target_errors: str = "zero"


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
    usage: Usage | None = None
    via: Via = "target"  # or "cache", "replay", "refused"
    cache_events: tuple[str, ...] = ()  # "hit", "miss", "write", "corrupt"
    trace: Any = None
    contexts: list[Any] | None = None


@dataclass
class FirstCall:
    """A row's first target call made before :meth:`Engine.evaluate` (engine.asynccall)."""

    attempt: _Attempt
    started_at: float
    started: float


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
        kwargs = dict(kwargs or {})
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
        fields.update(_provenance(runs, self.cache is not None))
        duration = time.perf_counter() - started
        # One constructor call: assigning pydantic fields one by one costs more than scoring.
        result = ItemResult(
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
        self,
        item: DatasetItem,
        kwargs: dict[str, Any],
        scorers: list[Scorer],
        dataset: str = "",
        repeat: int = 0,
        made: _Attempt | None = None,
    ) -> _Attempt:
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
    ) -> _Attempt:
        """The output of one call: replayed, cached, or from calling the target."""
        if self.replay is not None:
            recalled = self.replay.recall(item, dataset, repeat)
            if recalled is not None:
                return _replayed(recalled)
        if self.cache is None:
            return self._call_target(item, kwargs)
        from pytest_datasetrun.engine.cache import call_key

        target = self.target
        key = call_key(target.id, target.version, item.input, repeat)
        entry, problem = self.cache.get(key)
        if entry is not None:
            return _Attempt(
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

    def _call_target(self, item: DatasetItem, kwargs: dict[str, Any]) -> _Attempt:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                # A fresh copy of the row per call (#11): see engine.isolation.
                raw = self._invoke(*call_arguments(item, kwargs, self.target.wants_item))
                usage = read_usage(raw)
                found = self.target.extract(raw)
                return _Attempt(
                    output=found.output,
                    attempts=attempt,
                    duration=time.perf_counter() - started,
                    usage=usage,
                    trace=found.trace,
                    contexts=found.contexts,
                )
            except Exception as exc:  # noqa: BLE001 - recorded as the item's target error
                duration = time.perf_counter() - started
                if attempt > self.settings.max_retries or not self._retryable(exc, attempt):
                    return _Attempt(exception=exc, attempts=attempt, duration=duration)
                delay = backoff_delay(
                    exc, attempt, base=self.settings.backoff_base, cap=self.settings.backoff_max
                )
            if self.cancelled.wait(delay):
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

    def _outcome_fields(self, runs: list[_Attempt], scorers: list[Scorer]) -> dict[str, Any]:
        first = runs[0]
        output = jsonable(first.output)
        fields: dict[str, Any] = {
            "output": output,
            "output_is_repr": is_repr_only(first.output, output),
            "trace": None if first.trace is None else jsonable(first.trace),
            "contexts": None if first.contexts is None else jsonable(first.contexts),
            "attempts": sum(run.attempts for run in runs),
            "target_duration_s": statistics.fmean(run.duration for run in runs),
            "usage": sum_usage(run.usage for run in runs),
        }
        if len(runs) == 1:
            fields["scores"] = first.scores
            fields["status"] = _status(first)
            fields.update(_error_fields(first.exception))
            return fields
        repeats = [
            RepeatResult(
                output=jsonable(run.output),
                error=_describe(run.exception) if run.exception else None,
                scores=run.scores,
                duration_s=run.duration,
                passed=_status(run) == "passed",
                via=run.via,
            )
            for run in runs
        ]
        policy = self.settings.repeat_policy
        zero = self.settings.target_errors != "exclude"
        scores = [_reduce(scorer, runs, policy, zero) for scorer in scorers]
        errored = [run for run in runs if run.exception is not None]
        if len(errored) == len(runs):
            fields.update(_error_fields(errored[0].exception))
            status = "errored"
        elif any(score.error for score in scores):
            status = "errored"
        else:
            verdicts = [repeat.passed for repeat in repeats]
            passes = _policy_passes(self.settings.repeat_policy, verdicts)
            status = "passed" if passes else "failed"
        fields.update(repeats=repeats, scores=scores, status=status)
        return fields


def _status(run: _Attempt) -> str:
    if run.exception is not None or any(score.error for score in run.scores):
        return "errored"
    return "failed" if any(score.passed is False for score in run.scores) else "passed"


def _replayed(recalled: Any) -> _Attempt:
    from pytest_datasetrun.engine.replay import RecalledError

    if recalled.error is not None:
        error = RecalledError(recalled.error, recalled.error_type)
        # --replay-strict refused the row: nothing was replayed, and no call was made.
        via = "refused" if recalled.error_type == "ReplayMissing" else "replay"
        return _Attempt(exception=error, duration=recalled.duration, via=via)
    return _Attempt(
        output=recalled.output, usage=recalled.usage, duration=recalled.duration, via="replay"
    )


def _provenance(runs: list[_Attempt], cached: bool) -> dict[str, Any]:
    """Where the outputs came from, and the item's cache mark when the cache is on."""
    vias = {run.via for run in runs}
    # A row that called the target at least once is "target" (it spent something).
    via = next(v for v in ("target", "replay", "cache", "refused") if v in vias)
    fields: dict[str, Any] = {"via": via}
    if cached:
        events = [event for run in runs for event in run.cache_events]
        fields["cache"] = {
            "hits": events.count("hit"),
            "misses": events.count("miss"),
            "writes": events.count("write"),
        }
        if "corrupt" in events:
            fields["cache"]["corrupt"] = events.count("corrupt")
    return fields


def _describe(exc: BaseException) -> str:
    return describe_exception(exc)


def _error_fields(exc: BaseException | None) -> dict[str, Any]:
    if exc is None:
        return {}
    text, kind = getattr(exc, "text", None), getattr(exc, "error_type", None)
    if isinstance(text, str) and isinstance(kind, str):  # a RecalledError: the stored words
        return {"error": text, "error_type": kind}
    return {"error": _describe(exc), "error_type": type(exc).__name__}


def _reduce(scorer: Scorer, runs: list[_Attempt], policy: str, zero: bool) -> ScorerResult:
    """One scorer over K repeats: the mean value; passed by the repeat policy, not by the mean.

    A scorer passes a repeated row when its per-repeat verdicts satisfy ``--repeat-policy``
    (an attempt whose target or scorer failed counts as not passed), so a row the policy passes
    never has a failing scorer (issue 10.1). With ``zero``, an attempt whose target failed
    counts as 0 in the mean, as a target-errored row does in the aggregates (issue 10.2).
    """
    per_run = [next((s for s in run.scores if s.id == scorer.key), None) for run in runs]
    scored = [s for s in per_run if s is not None]
    failed = sum(run.exception is not None for run in runs) if zero else 0
    values = [s.value for s in scored if s.value is not None]
    if values and failed:
        values += [0.0] * failed
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
        reduced.reason = f"mean of {len(values)} repeats"
        if failed:
            reduced.reason += f" ({failed} whose target failed counted as 0)"
            reduced.metadata["target_errors"] = failed
        if scorer.threshold is not None:
            verdicts = [s is not None and s.passed is True for s in per_run]
            reduced.passed = _policy_passes(policy, verdicts)
            reduced.metadata.update(repeats_passed=sum(verdicts), repeat_policy=policy)
            reduced.reason += f"; passed {sum(verdicts)} of {len(runs)} (policy {policy})"
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
