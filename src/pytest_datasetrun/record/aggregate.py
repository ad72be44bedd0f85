"""Counts and per-scorer statistics kept while results stream in, in memory independent of the rows.

:class:`RunningAggregates` takes each item as its JSON object (the payload a result travels as)
and keeps only running sums, so a 1M-row run costs the same memory as a 10-row one. The figures
are the ones :func:`~pytest_datasetrun.record.run.count_items` and
:func:`~pytest_datasetrun.record.run.aggregate_scores` compute from the whole list: the mean is
the correctly rounded exact sum over ``n`` (``statistics.fmean``), the standard deviation is
computed from exact sums of the values and their squares, as ``statistics.stdev`` does (3.11+).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pytest_datasetrun.record.run import Aggregate, Counts, ScorerInfo

__all__ = ("RunningAggregates", "ScorerSums")

_STATUSES = ("passed", "failed", "errored", "skipped", "not_run")


@dataclass
class ScorerSums:
    """One scorer's running figures: exact sums by denominator, as ``statistics._ss`` keeps them."""

    id: str
    name: str
    threshold: float | None = None
    n: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    low: float = math.inf
    high: float = -math.inf
    sx: dict[int, int] = field(default_factory=dict)
    sxx: dict[int, int] = field(default_factory=dict)

    def add(self, score: Mapping[str, Any]) -> None:
        """Count one score (a scorer result's JSON object)."""
        if score.get("error") is not None:
            self.errors += 1
            return
        value = score.get("value")
        if value is not None:
            self._add_value(float(value))
        passed = score.get("passed")
        if passed is True:
            self.passed += 1
        elif passed is False:
            self.failed += 1

    def _add_value(self, value: float) -> None:
        self.n += 1
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        num, den = value.as_integer_ratio()
        self.sx[den] = self.sx.get(den, 0) + num
        self.sxx[den] = self.sxx.get(den, 0) + num * num

    def aggregate(self) -> Aggregate:
        """The :class:`Aggregate` of everything added so far."""
        agg = Aggregate(id=self.id, name=self.name, threshold=self.threshold)
        agg.passed, agg.failed, agg.errors, agg.n = self.passed, self.failed, self.errors, self.n
        if self.n:
            total = sum((Fraction(num, den) for den, num in self.sx.items()), Fraction(0))
            agg.mean = float(total) / self.n  # statistics.fmean: fsum(data) / n
            agg.min, agg.max = self.low, self.high
            agg.stdev = self._stdev(total) if self.n > 1 else 0.0
        judged = agg.passed + agg.failed
        agg.pass_rate = agg.passed / judged if judged else None
        return agg

    def _stdev(self, sx: Fraction) -> float:
        sxx = sum((Fraction(num, den * den) for den, num in self.sxx.items()), Fraction(0))
        mss = (self.n * sxx - sx * sx) / self.n / (self.n - 1)
        exact = getattr(statistics, "_float_sqrt_of_frac", None)
        if exact is None:  # pragma: no cover - Python 3.10: correct to the last bit or two
            return math.sqrt(mss)
        return float(exact(mss.numerator, mss.denominator))


class RunningAggregates:
    """Counts, per-dataset selections, workers and per-scorer sums of the items added so far."""

    def __init__(self, scorers: Iterable[ScorerInfo] = ()) -> None:
        self.statuses: dict[str, int] = dict.fromkeys(_STATUSES, 0)
        self.per_dataset: dict[str, int] = {}
        self.workers: set[str] = set()
        self.scorers: dict[str, ScorerSums] = {}
        self.item_errors = 0
        for info in scorers:
            self.declare(info)

    def declare(self, info: ScorerInfo) -> None:
        """Make sure a declared scorer is reported even with no score, with its declared name."""
        sums = self.scorers.setdefault(info.id, ScorerSums(info.id, info.name, info.threshold))
        sums.name, sums.threshold = info.name, info.threshold

    def declare_first(self, scorers: Iterable[ScorerInfo]) -> None:
        """Declare ``scorers`` and put them first, in this order (then those seen only on items)."""
        scorers = list(scorers)
        for info in scorers:
            self.declare(info)
        self.scorers = {info.id: self.scorers[info.id] for info in scorers} | self.scorers

    def add(self, item: Mapping[str, Any]) -> None:
        """Count one item (an item result's JSON object), with its final status."""
        status = str(item.get("status", "passed"))
        self.statuses[status] = self.statuses.get(status, 0) + 1
        dataset = str(item.get("dataset", ""))
        self.per_dataset[dataset] = self.per_dataset.get(dataset, 0) + 1
        worker = item.get("worker")
        if worker:
            self.workers.add(str(worker))
        scores = item.get("scores") or ()
        errored = status == "errored" or item.get("error") is not None
        for score in scores:
            sums = self.scorers.get(score["id"])
            if sums is None:
                sums = self.scorers[score["id"]] = ScorerSums(
                    score["id"], score.get("name", score["id"]), score.get("threshold")
                )
            sums.add(score)
            errored = errored or score.get("error") is not None
        self.item_errors += errored

    def counts(self) -> Counts:
        """The item counts, as :func:`~pytest_datasetrun.record.run.count_items` gives them."""
        counts = Counts(selected=sum(self.statuses.values()))
        for status, number in self.statuses.items():
            setattr(counts, status, number)
        return counts

    def aggregates(self) -> dict[str, Aggregate]:
        """Per-scorer aggregates, as :func:`~pytest_datasetrun.record.run.aggregate_scores`."""
        return {sid: sums.aggregate() for sid, sums in self.scorers.items()}
