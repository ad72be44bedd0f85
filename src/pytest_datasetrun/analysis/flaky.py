"""Flaky items: items whose verdict changes from run to run, or between repeats of one run.

Works on comparable runs, oldest first: :func:`group_runs` groups them by dataset content
(sha256), target and scorer configuration, so two targets run alternately are never mixed.
An item's *verdict* in a run is passed, failed or errored (skipped and not-run items have
none); its *flip rate* is the share of consecutive verdicts that differ, so an item that
alternates has a flip rate of 1. An item that changed once and stayed (``PPPFFF``) is a
*step* (a fix or a regression), not flaky; an item flips back and forth is flaky.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pytest_datasetrun.analysis.gates import item_verdict
from pytest_datasetrun.record.results import ItemResult
from pytest_datasetrun.record.run import RunRecord

__all__ = ("FlakyItem", "HistoryEntry", "flaky_items", "group_runs", "item_history", "step_items")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FlakyItem(_Model):
    """One item whose verdict is not stable.

    ``runs`` counts the runs that have the item; ``verdicts`` leaves out those where it was
    skipped or not run. ``repeat_flaky_runs`` are the runs whose repeats (``--repeat``) of
    the item did not all agree. ``kind`` is ``"flaky"`` (the verdict went back and forth, or
    repeats disagreed) or ``"step"`` (it changed once, in run ``changed_in``, and stayed).
    """

    item_id: str
    runs: int = 0
    verdicts: list[str] = Field(default_factory=list)
    flips: int = 0
    flip_rate: float = 0.0
    repeat_flaky_runs: list[str] = Field(default_factory=list)
    last_verdict: str | None = None
    kind: str = "flaky"
    changed_in: str | None = None


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
    """The items whose verdict went back and forth across runs, or across the repeats of one run.

    :param records: comparable runs (see :func:`group_runs`), with their items (any order:
        they are sorted by start time, then run id).
    :returns: the flaky items, most flaky first (flip rate, then flips, then repeat
        disagreements, then id). Items that changed only once are :func:`step_items`.
    """
    flaky = [f for f in _changed(records) if f.kind == "flaky"]
    return sorted(
        flaky, key=lambda f: (-f.flip_rate, -f.flips, -len(f.repeat_flaky_runs), f.item_id)
    )


def step_items(records: Iterable[RunRecord]) -> list[FlakyItem]:
    """The items whose verdict changed exactly once and stayed: a fix or a regression.

    :param records: as for :func:`flaky_items`.
    :returns: the steps, by item id.
    """
    return sorted((f for f in _changed(records) if f.kind == "step"), key=lambda f: f.item_id)


def group_runs(records: Iterable[RunRecord]) -> dict[str, list[RunRecord]]:
    """Group runs that can be compared: same dataset content, target and scorer configuration.

    :returns: label -> runs. The label is the dataset name, with the target, the dataset's
        sha256 and the scorer configuration's hash added only where they tell groups of the
        same dataset apart.
    """
    groups: dict[tuple[str, str, str, str], list[RunRecord]] = {}
    for record in records:
        groups.setdefault(_group_key(record), []).append(record)
    return {_label(key, list(groups)): runs for key, runs in groups.items()}


def _group_key(record: RunRecord) -> tuple[str, str, str, str]:
    names = "+".join(d.name for d in record.datasets)
    shas = "+".join(sorted(d.sha256 for d in record.datasets))
    target = record.target.id if record.target else ""
    config = [
        [s.id, s.name, s.threshold, s.params] for s in sorted(record.scorers, key=lambda s: s.id)
    ]
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return names, shas, target, digest


def _label(key: tuple[str, str, str, str], keys: list[tuple[str, str, str, str]]) -> str:
    names, shas, target, digest = key
    same_name = [k for k in keys if k[0] == names]
    label = names
    if len({k[2] for k in same_name}) > 1:
        label += f"@{target}"
    if len({k[1] for k in same_name}) > 1:
        label += f" sha256 {shas[:8]}"
    if len({k[3] for k in same_name}) > 1:
        label += f" scorers {digest[:8]}"
    return label


def _changed(records: Iterable[RunRecord]) -> list[FlakyItem]:
    seen: dict[str, int] = {}
    verdicts: dict[str, list[tuple[str, str]]] = {}
    repeat_runs: dict[str, list[str]] = {}
    for record in _chronological(records):
        for item in record.items:
            seen[item.item_id] = seen.get(item.item_id, 0) + 1
            verdict = item_verdict(item)
            if verdict is not None:
                verdicts.setdefault(item.item_id, []).append((verdict, record.run_id))
            if _repeats_disagree(item):
                repeat_runs.setdefault(item.item_id, []).append(record.run_id)
    found = [
        _flaky_item(item_id, seen[item_id], verdicts.get(item_id, []), repeat_runs.get(item_id, []))
        for item_id in seen
    ]
    return [f for f in found if f.flips or f.repeat_flaky_runs]


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


def _flaky_item(
    item_id: str, runs: int, seen: list[tuple[str, str]], repeat_runs: list[str]
) -> FlakyItem:
    verdicts = [verdict for verdict, _ in seen]
    changes = [i for i in range(1, len(verdicts)) if verdicts[i] != verdicts[i - 1]]
    step = len(changes) == 1 and not repeat_runs
    return FlakyItem(
        item_id=item_id,
        runs=runs,
        verdicts=verdicts,
        flips=len(changes),
        flip_rate=len(changes) / (len(verdicts) - 1) if len(verdicts) > 1 else 0.0,
        repeat_flaky_runs=repeat_runs,
        last_verdict=verdicts[-1] if verdicts else None,
        kind="step" if step else "flaky",
        changed_in=seen[changes[0]][1] if step else None,
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
