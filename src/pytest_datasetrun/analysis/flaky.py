"""Flaky items: items whose verdict changes from run to run, or between repeats of one run.

Works on the runs of one dataset, oldest first. An item's *verdict* in a run is passed,
failed or errored (skipped and not-run items have none); its *flip rate* is the share of
consecutive verdicts that differ, so an item that alternates has a flip rate of 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pytest_datasetrun.analysis.gates import item_verdict
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import RunRecord

__all__ = ("FlakyItem", "HistoryEntry", "flaky_items", "item_history")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FlakyItem(_Model):
    """One item whose verdict is not stable.

    ``runs`` counts the runs that have the item; ``verdicts`` leaves out those where it was
    skipped or not run. ``repeat_flaky_runs`` are the runs whose repeats (``--repeat``) of
    the item did not all agree.
    """

    item_id: str
    runs: int = 0
    verdicts: list[str] = Field(default_factory=list)
    flips: int = 0
    flip_rate: float = 0.0
    repeat_flaky_runs: list[str] = Field(default_factory=list)
    last_verdict: str | None = None


class HistoryEntry(_Model):
    """One item in one run."""

    run_id: str
    name: str = ""
    started_at: datetime
    git_commit: str | None = None
    status: str
    verdict: str | None = None
    scores: dict[str, float | None] = Field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    repeats: int = 0
    repeats_passed: int = 0


def flaky_items(records: Iterable[RunRecord]) -> list[FlakyItem]:
    """The items whose verdict changed across runs or across the repeats of one run.

    :param records: runs of one dataset, with their items (any order: they are sorted by
        start time, then run id).
    :returns: the flaky items, most flaky first (flip rate, then flips, then repeat
        disagreements, then id).
    """
    seen: dict[str, int] = {}
    verdicts: dict[str, list[str]] = {}
    repeat_runs: dict[str, list[str]] = {}
    for record in _chronological(records):
        for item in record.items:
            seen[item.item_id] = seen.get(item.item_id, 0) + 1
            verdict = item_verdict(item)
            if verdict is not None:
                verdicts.setdefault(item.item_id, []).append(verdict)
            if _repeats_disagree(item):
                repeat_runs.setdefault(item.item_id, []).append(record.run_id)
    found = [
        _flaky_item(item_id, seen[item_id], verdicts.get(item_id, []), repeat_runs.get(item_id, []))
        for item_id in seen
    ]
    flaky = [f for f in found if f.flips or f.repeat_flaky_runs]
    return sorted(
        flaky, key=lambda f: (-f.flip_rate, -f.flips, -len(f.repeat_flaky_runs), f.item_id)
    )


def item_history(records: Iterable[RunRecord], item_id: str) -> list[HistoryEntry]:
    """One item's results across runs, oldest first.

    :param records: runs with their items.
    :param item_id: the item's id.
    :returns: one entry per run that has the item (empty when none has).
    """
    history = []
    for record in _chronological(records):
        item = next((i for i in record.items if i.item_id == item_id), None)
        if item is not None:
            history.append(_entry(record, item))
    return history


def _chronological(records: Iterable[RunRecord]) -> list[RunRecord]:
    return sorted(records, key=lambda r: (r.started_at, r.run_id))


def _repeats_disagree(item: ItemResult) -> bool:
    return len({repeat.passed for repeat in item.repeats}) > 1


def _flaky_item(item_id: str, runs: int, verdicts: list[str], repeat_runs: list[str]) -> FlakyItem:
    flips = sum(verdicts[i] != verdicts[i - 1] for i in range(1, len(verdicts)))
    return FlakyItem(
        item_id=item_id,
        runs=runs,
        verdicts=verdicts,
        flips=flips,
        flip_rate=flips / (len(verdicts) - 1) if len(verdicts) > 1 else 0.0,
        repeat_flaky_runs=repeat_runs,
        last_verdict=verdicts[-1] if verdicts else None,
    )


def _entry(record: RunRecord, item: ItemResult) -> HistoryEntry:
    return HistoryEntry(
        run_id=record.run_id,
        name=record.name,
        started_at=record.started_at,
        git_commit=record.environment.git_commit,
        status=item.status,
        verdict=item_verdict(item),
        scores={score.id: score.value for score in item.scores},
        error=item.error or next((s.error for s in item.scores if s.error), None),
        error_type=item.error_type,
        repeats=len(item.repeats),
        repeats_passed=sum(repeat.passed for repeat in item.repeats),
    )
