"""Counts and per-scorer statistics of a run computed from its items one at a time.

:class:`RunningAggregates` takes each item as its JSON object (the payload a result travels as)
and keeps only running sums, so a 1M-row run costs the memory of a 10-row one. Fed the items in
dataset order it gives exactly what :func:`~pytest_datasetrun.record.run.count_items` and
:func:`~pytest_datasetrun.record.run.aggregate_scores` compute from the whole list: each row
enters through the same rule (``run._add``); the mean is the correctly rounded exact sum over
``n`` (``statistics.fmean``) and the standard deviation comes from exact sums of the values and
their squares, as ``statistics.stdev`` computes it (Python 3.11+).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from pytest_datasetrun.record.run import Aggregate, Counts, ScorerInfo, set_pass_rate
from pytest_datasetrun.record.run import _add as add_row  # the one rule for a row's value

__all__ = ("ExactValues", "LightItem", "LightScore", "RunningAggregates")

_STATUSES = ("passed", "failed", "errored", "skipped", "not_run")


class ExactValues:
    """A scorer's values as exact sums by denominator (as ``statistics._ss`` keeps them)."""

    __slots__ = ("high", "low", "n", "sx", "sxx")

    def __init__(self) -> None:
        self.n = 0
        self.low, self.high = math.inf, -math.inf
        self.sx: dict[int, int] = {}
        self.sxx: dict[int, int] = {}

    def __len__(self) -> int:
        return self.n

    def append(self, value: float) -> None:
        self.n += 1
        self.low, self.high = min(self.low, value), max(self.high, value)
        num, den = value.as_integer_ratio()
        self.sx[den] = self.sx.get(den, 0) + num
        self.sxx[den] = self.sxx.get(den, 0) + num * num

    def to_wire(self) -> dict[str, Any]:
        """The sums as plain data (integers as text: any size crosses a process boundary)."""
        return {
            "n": self.n,
            "low": self.low if self.n else None,
            "high": self.high if self.n else None,
            "sx": [[den, str(num)] for den, num in self.sx.items()],
            "sxx": [[den, str(num)] for den, num in self.sxx.items()],
        }

    def merge(self, wire: Mapping[str, Any]) -> None:
        """Add the sums another process kept (:meth:`to_wire`): exact, in any order."""
        if not wire["n"]:
            return
        self.n += wire["n"]
        self.low, self.high = min(self.low, wire["low"]), max(self.high, wire["high"])
        for den, num in wire["sx"]:
            self.sx[den] = self.sx.get(den, 0) + int(num)
        for den, num in wire["sxx"]:
            self.sxx[den] = self.sxx.get(den, 0) + int(num)

    def summarise(self, agg: Aggregate) -> None:
        """Set ``n``, ``mean``, ``min``, ``max`` and ``stdev`` as ``run._summarise`` does."""
        agg.n = self.n
        if not self.n:
            return
        total = sum((Fraction(num, den) for den, num in self.sx.items()), Fraction(0))
        agg.mean = float(total) / self.n  # statistics.fmean: fsum(data) / n
        agg.min, agg.max = self.low, self.high
        agg.stdev = self._stdev(total) if self.n > 1 else 0.0

    def _stdev(self, sx: Fraction) -> float:
        sxx = sum((Fraction(num, den * den) for den, num in self.sxx.items()), Fraction(0))
        mss = (self.n * sxx - sx * sx) / self.n / (self.n - 1)
        exact = getattr(statistics, "_float_sqrt_of_frac", None)
        if exact is None:  # pragma: no cover - Python 3.10: correct to the last bit or two
            return math.sqrt(mss)
        return float(exact(mss.numerator, mss.denominator))


class LightScore:
    """The fields of a scorer result that run totals read (metadata only when it has usage)."""

    __slots__ = ("error", "id", "metadata", "name", "passed", "threshold", "value")

    def __init__(self, score: Mapping[str, Any]) -> None:
        self.id = score["id"]
        self.name = score.get("name", self.id)
        value = score.get("value")
        self.value = None if value is None else float(value)
        self.passed = score.get("passed")
        self.threshold = score.get("threshold")
        self.error = score.get("error")
        metadata = score.get("metadata")
        self.metadata = metadata if isinstance(metadata, dict) and "usage" in metadata else {}


class LightItem:
    """The fields of an item result the aggregation rule reads, from its JSON object."""

    __slots__ = ("error", "scores", "status")

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.status = item.get("status", "passed")
        self.error = item.get("error")
        self.scores = [LightScore(score) for score in item.get("scores") or ()]

    def score(self, scorer_id: str) -> LightScore | None:
        """As :meth:`ItemResult.score <pytest_datasetrun.record.results.ItemResult.score>`."""
        for result in self.scores:
            if scorer_id in (result.id, result.name):
                return result
        return None


class RunningAggregates:
    """Counts, per-dataset selections, workers, item errors and per-scorer aggregates."""

    def __init__(self, scorers: Iterable[ScorerInfo] = (), target_errors: str = "zero") -> None:
        self.target_errors = target_errors
        self.statuses: dict[str, int] = dict.fromkeys(_STATUSES, 0)
        self.per_dataset: dict[str, int] = {}
        self.workers: set[str] = set()
        self.item_errors = 0
        self._aggregates = {
            info.id: Aggregate(id=info.id, name=info.name, threshold=info.threshold)
            for info in scorers
        }
        self._values: dict[str, ExactValues] = {}

    def add(self, item: Mapping[str, Any], light: LightItem | None = None) -> None:
        """Count one item (an item result's JSON object, with its final status).

        :param light: the item's :class:`LightItem`, when the caller has made one already.
        """
        light = LightItem(item) if light is None else light
        self.statuses[light.status] = self.statuses.get(light.status, 0) + 1
        dataset = str(item.get("dataset", ""))
        self.per_dataset[dataset] = self.per_dataset.get(dataset, 0) + 1
        if item.get("worker"):
            self.workers.add(str(item["worker"]))
        errored = light.status == "errored" or light.error is not None
        self.item_errors += errored or any(s.error is not None for s in light.scores)
        for score in light.scores:
            if score.id not in self._aggregates:
                self._aggregates[score.id] = Aggregate(
                    id=score.id, name=score.name, threshold=score.threshold
                )
        for agg in self._aggregates.values():
            values = self._values.setdefault(agg.id, ExactValues())
            add_row(agg, light, values, self.target_errors)  # type: ignore[arg-type]

    def scorer_ids(self) -> list[str]:
        """The scorers summed so far, in the order they were first seen."""
        return list(self._aggregates)

    def to_wire(self) -> dict[str, Any]:
        """Everything summed, as plain data another process can :meth:`merge`."""
        return {
            "statuses": dict(self.statuses),
            "per_dataset": dict(self.per_dataset),
            "workers": sorted(self.workers),
            "item_errors": self.item_errors,
            "aggregates": {
                sid: [agg.passed, agg.failed, agg.errors, agg.target_errors]
                for sid, agg in self._aggregates.items()
            },
            "values": {sid: values.to_wire() for sid, values in self._values.items()},
        }

    def merge(self, wire: Mapping[str, Any]) -> None:
        """Add another process's sums, kept over the same scorers (the counts merge exactly).

        :raises KeyError: when ``wire`` summed a scorer this one does not know: scorers first
            seen part-way through change what earlier rows count toward, so only a pass over
            the items in dataset order gives the figures then.
        """
        for sid in wire["aggregates"]:
            if sid not in self._aggregates:
                raise KeyError(sid)
        for status, number in wire["statuses"].items():
            self.statuses[status] = self.statuses.get(status, 0) + number
        for dataset, number in wire["per_dataset"].items():
            self.per_dataset[dataset] = self.per_dataset.get(dataset, 0) + number
        self.workers.update(wire["workers"])
        self.item_errors += wire["item_errors"]
        for sid, (passed, failed, errors, target_errors) in wire["aggregates"].items():
            agg = self._aggregates[sid]
            agg.passed += passed
            agg.failed += failed
            agg.errors += errors
            agg.target_errors += target_errors
        for sid, values in wire["values"].items():
            self._values.setdefault(sid, ExactValues()).merge(values)

    def counts(self) -> Counts:
        """The item counts, as :func:`~pytest_datasetrun.record.run.count_items` gives them."""
        counts = Counts(selected=sum(self.statuses.values()))
        for status, number in self.statuses.items():
            setattr(counts, status, number)
        return counts

    def aggregates(self) -> dict[str, Aggregate]:
        """Per-scorer aggregates, as :func:`~pytest_datasetrun.record.run.aggregate_scores`."""
        result = {}
        for sid, agg in self._aggregates.items():
            agg = agg.model_copy()
            self._values.get(sid, ExactValues()).summarise(agg)
            set_pass_rate(agg, self.target_errors)
            result[sid] = agg
        return result
