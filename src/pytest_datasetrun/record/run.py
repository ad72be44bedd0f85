"""The run record: one document per session, as stored, compared and gated on."""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pytest_datasetrun.record.results import ItemResult

__all__ = (
    "RunStatus",
    "DatasetInfo",
    "TargetInfo",
    "ScorerInfo",
    "Environment",
    "Counts",
    "Aggregate",
    "GateResult",
    "RunRecord",
    "new_run_id",
    "count_items",
    "aggregate_scores",
)

RunStatus = Literal["completed", "partial"]


def new_run_id(now: datetime | None = None) -> str:
    """A unique id that sorts by start time: ``20261125T180512123Z-1a2b3c``."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DatasetInfo(_Model):
    path: str
    name: str
    sha256: str
    total: int
    selected: int = 0
    format: str = ""


class TargetInfo(_Model):
    id: str
    name: str
    kind: str
    version: str = ""  # dr.target(version=...): part of the call-cache key


class ScorerInfo(_Model):
    id: str
    name: str
    threshold: float | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class Environment(_Model):
    git_commit: str | None = None
    git_dirty: bool | None = None
    git_branch: str | None = None
    python: str = ""
    pytest: str = ""
    plugin: str = ""
    platform: str = ""
    workers: int = 0


class Counts(_Model):
    selected: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    not_run: int = 0


class Aggregate(_Model):
    """Per-scorer statistics over the items where the scorer produced a value."""

    id: str
    name: str
    n: int = 0
    mean: float | None = None
    min: float | None = None
    max: float | None = None
    stdev: float | None = None
    threshold: float | None = None
    passed: int = 0
    failed: int = 0
    pass_rate: float | None = None
    errors: int = 0


class GateResult(_Model):
    """One run-level quality gate: what was measured against which limit."""

    gate: str
    value: float | None
    limit: str
    passed: bool
    detail: str = ""


class RunRecord(_Model):
    """Everything one session produced. ``items`` are in dataset order."""

    run_id: str
    name: str
    status: RunStatus = "completed"
    started_at: datetime
    finished_at: datetime
    duration_s: float
    exit_status: int = 0
    datasets: list[DatasetInfo] = Field(default_factory=list)
    target: TargetInfo | None = None
    scorers: list[ScorerInfo] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    environment: Environment = Field(default_factory=Environment)
    counts: Counts = Field(default_factory=Counts)
    aggregates: dict[str, Aggregate] = Field(default_factory=dict)
    gates: list[GateResult] = Field(default_factory=list)
    comparison: dict[str, Any] | None = None
    repeats: dict[str, Any] | None = None
    # --replay: the run the outputs came from, and {"rows": replayed ids, "called", "changed"}.
    replayed_from: str | None = None
    replay: dict[str, Any] | None = None
    # --cache: {"mode", "dir", "hits", "misses", "writes", "corrupt"} over the run's items.
    cache: dict[str, Any] | None = None
    # Tokens spent, latency p50/p95 and cost (analysis.costs.usage_summary).
    usage: dict[str, Any] | None = None
    items: list[ItemResult] = Field(default_factory=list)

    @property
    def dataset(self) -> DatasetInfo | None:
        """The first (usually only) dataset of the run."""
        return self.datasets[0] if self.datasets else None

    def summary(self) -> dict[str, Any]:
        """The record without its items: what the runs index stores."""
        return self.model_dump(mode="json", exclude={"items"})


def count_items(items: Iterable[ItemResult]) -> Counts:
    counts = Counts()
    for item in items:
        counts.selected += 1
        setattr(counts, item.status, getattr(counts, item.status) + 1)
    return counts


def aggregate_scores(
    items: Iterable[ItemResult], scorers: Iterable[ScorerInfo]
) -> dict[str, Aggregate]:
    """Aggregate every scorer over the items (errored scorers count as errors, never as 0)."""
    values: dict[str, list[float]] = {}
    aggregates: dict[str, Aggregate] = {
        info.id: Aggregate(id=info.id, name=info.name, threshold=info.threshold) for info in scorers
    }
    for item in items:
        for score in item.scores:
            agg = aggregates.setdefault(
                score.id, Aggregate(id=score.id, name=score.name, threshold=score.threshold)
            )
            if score.error is not None:
                agg.errors += 1
                continue
            if score.value is not None:
                values.setdefault(score.id, []).append(score.value)
            if score.passed is True:
                agg.passed += 1
            elif score.passed is False:
                agg.failed += 1
    for scorer_id, agg in aggregates.items():
        data = values.get(scorer_id, [])
        agg.n = len(data)
        if data:
            agg.mean = statistics.fmean(data)
            agg.min = min(data)
            agg.max = max(data)
            agg.stdev = statistics.stdev(data) if len(data) > 1 else 0.0
        judged = agg.passed + agg.failed
        agg.pass_rate = agg.passed / judged if judged else None
    return aggregates
