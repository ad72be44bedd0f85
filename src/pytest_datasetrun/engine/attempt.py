"""One attempt at a row: its output or error, where it came from, and the result fields it gives."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_datasetrun.engine.usage import read_usage
from pytest_datasetrun.errors import describe_exception
from pytest_datasetrun.record.light import ScoreRow
from pytest_datasetrun.record.results import Usage, Via

if TYPE_CHECKING:
    from pytest_datasetrun.engine.targets import Target

__all__ = (
    "Attempt",
    "attempt_from",
    "attempt_status",
    "cancelled_retry",
    "replayed",
    "provenance",
    "describe",
    "error_fields",
)


@dataclass
class Attempt:
    output: Any = None
    exception: BaseException | None = None
    attempts: int = 1
    duration: float = 0.0
    scores: list[ScoreRow] = field(default_factory=list)
    usage: Usage | None = None
    via: Via = "target"  # or "cache", "replay", "refused"
    cache_events: tuple[str, ...] = ()  # "hit", "miss", "write", "corrupt"
    trace: Any = None
    contexts: list[Any] | None = None


def attempt_from(target: Target, raw: Any, attempt: int, started: float) -> Attempt:
    """The attempt a target call's raw result makes: its output, usage, trace and contexts."""
    usage = read_usage(raw)
    found = target.extract(raw)
    return Attempt(
        output=found.output,
        attempts=attempt,
        duration=time.perf_counter() - started,
        usage=usage,
        trace=found.trace,
        contexts=found.contexts,
    )


def cancelled_retry(attempt: int) -> Attempt:
    """The attempt of a row whose retry was waiting when the session stopped."""
    return Attempt(exception=RuntimeError("cancelled while waiting to retry"), attempts=attempt)


def attempt_status(run: Attempt) -> str:
    if run.exception is not None or any(score.error for score in run.scores):
        return "errored"
    return "failed" if any(score.passed is False for score in run.scores) else "passed"


def replayed(recalled: Any) -> Attempt:
    from pytest_datasetrun.engine.replay import RecalledError

    if recalled.error is not None:
        error = RecalledError(recalled.error, recalled.error_type)
        # --replay-strict refused the row: nothing was replayed, and no call was made.
        via = "refused" if recalled.error_type == "ReplayMissing" else "replay"
        return Attempt(exception=error, duration=recalled.duration, via=via)
    return Attempt(
        output=recalled.output, usage=recalled.usage, duration=recalled.duration, via="replay"
    )


def provenance(runs: list[Attempt], cached: bool) -> dict[str, Any]:
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


def describe(exc: BaseException) -> str:
    return describe_exception(exc)


def error_fields(exc: BaseException | None) -> dict[str, Any]:
    if exc is None:
        return {}
    text, kind = getattr(exc, "text", None), getattr(exc, "error_type", None)
    if isinstance(text, str) and isinstance(kind, str):  # a RecalledError: the stored words
        return {"error": text, "error_type": kind}
    return {"error": describe(exc), "error_type": type(exc).__name__}
