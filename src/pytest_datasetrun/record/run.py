"""The run record: one document per session, as stored, compared and gated on."""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.values import ERRORED, row_value, target_failed

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
    """Items by verdict. ``pass_rate`` is ``passed / selected``: errored, skipped and not-run
    items are in the denominator, as not passed; the same share ``--min-pass-rate`` gates on."""

    selected: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    not_run: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pass_rate(self) -> float | None:
        """The share of the selected items that passed (``None`` with no items)."""
        return self.passed / self.selected if self.selected else None


class Aggregate(_Model):
    """Per-scorer statistics of one run (see "What the numbers mean" in docs/gating.md).

    ``n`` values enter ``mean``/``min``/``max``/``stdev`` (sample standard deviation, n - 1):
    every value the scorer gave, plus a 0 for each row whose target failed when target errors
    count as zero (``target_errors`` of them). ``errors`` counts the rows where the scorer
    itself raised: never a 0, never in ``n``. ``pass_rate`` is ``passed / (passed + failed +
    errors + target_errors)``: errored rows are in the denominator, as not passed.
    """

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
    target_errors: int = 0


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
    items: Iterable[ItemResult], scorers: Iterable[ScorerInfo], target_errors: str = "zero"
) -> dict[str, Aggregate]:
    """Aggregate every scorer over the items.

    A scorer that raised is counted in ``errors``, never as a 0. A row whose target failed is
    counted in ``target_errors`` and, with ``target_errors="zero"`` (the default), enters the
    statistics as a 0 for every scorer of the run (see :mod:`pytest_datasetrun.record.values`).
    """
    values: dict[str, list[float]] = {}
    aggregates: dict[str, Aggregate] = {
        info.id: Aggregate(id=info.id, name=info.name, threshold=info.threshold) for info in scorers
    }
    for item in items:
        for score in item.scores:
            aggregates.setdefault(
                score.id, Aggregate(id=score.id, name=score.name, threshold=score.threshold)
            )
        for agg in aggregates.values():
            _add(agg, item, values.setdefault(agg.id, []), target_errors)
    for scorer_id, agg in aggregates.items():
        _summarise(agg, values.get(scorer_id, []), target_errors)
    return aggregates


def _add(agg: Aggregate, item: ItemResult, values: list[float], target_errors: str) -> None:
    value = row_value(item, agg.id, target_errors)
    if value is ERRORED:
        agg.errors += 1
        return
    score = item.score(agg.id)
    from_target = target_failed(item) and (score is None or score.value is None)
    agg.target_errors += from_target
    if not isinstance(value, float):
        return  # not applicable, or a target error left out
    values.append(value)
    if from_target:
        verdict = None if agg.threshold is None else value >= agg.threshold
    else:
        verdict = score.passed if score is not None else None
    if verdict is True:
        agg.passed += 1
    elif verdict is False:
        agg.failed += 1


def _summarise(agg: Aggregate, data: list[float], target_errors: str) -> None:
    agg.n = len(data)
    if data:
        agg.mean = statistics.fmean(data)
        agg.min = min(data)
        agg.max = max(data)
        agg.stdev = statistics.stdev(data) if len(data) > 1 else 0.0
    set_pass_rate(agg, target_errors)


def set_pass_rate(agg: Aggregate, target_errors: str) -> None:
    """``pass_rate`` from the counts: errored rows are in the denominator, as not passed."""
    judged = agg.passed + agg.failed
    left_out = agg.target_errors if target_errors == "exclude" else 0  # zeros are judged
    agg.pass_rate = agg.passed / (judged + agg.errors + left_out) if judged else None
