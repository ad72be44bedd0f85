"""A run's usage totals kept one item at a time, so processes can sum their own rows and merge.

:class:`UsageTotals` holds what :func:`~pytest_datasetrun.analysis.costs.usage_summary` gives
without a price table: rows by origin, tokens spent by the target and by judges, latencies (for
the p50/p95). Each xdist worker keeps one over the rows it ran; the process writing the run adds
them up (:meth:`UsageTotals.merge`) instead of reading every row back at the end.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_datasetrun.analysis.provenance import target_calls
from pytest_datasetrun.engine.usage import read_usage
from pytest_datasetrun.record.results import ItemResult, ScorerResult, Usage

__all__ = ("UsageTotals", "judge_usages", "percentile")

_COUNTS = (
    "called",
    "cached",
    "replayed",
    "called_rows",
    "rows_with_usage",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "judge_calls",
    "judge_input_tokens",
    "judge_output_tokens",
    "judge_total_tokens",
)


class UsageTotals:
    """Counts and token sums over items; latencies of the calls that answered."""

    __slots__ = (*_COUNTS, "latencies")

    def __init__(self) -> None:
        for name in _COUNTS:
            setattr(self, name, 0)
        self.latencies = array("d")

    def add(self, item: ItemResult) -> None:
        """Count one item (an :class:`ItemResult` or a light view with the same fields)."""
        calls = target_calls(item)
        self.called += calls
        self.cached += item.via == "cache"
        self.replayed += item.via == "replay"
        if calls:
            self.called_rows += 1
            usage = item.usage
            if usage is not None:
                self.rows_with_usage += 1
                self.input_tokens += usage.input_tokens
                self.output_tokens += usage.output_tokens
                self.total_tokens += usage.total_tokens
            if item.error is None:
                self.latencies.append(item.target_duration_s)
        for judged in judge_usages([item]):
            self.judge_calls += 1
            self.judge_input_tokens += judged.input_tokens
            self.judge_output_tokens += judged.output_tokens
            self.judge_total_tokens += judged.total_tokens

    def to_wire(self) -> dict[str, Any]:
        """The totals as plain data (latencies as the bytes of an array of doubles)."""
        wire: dict[str, Any] = {name: getattr(self, name) for name in _COUNTS}
        wire["latencies"] = self.latencies.tobytes()
        return wire

    def merge(self, wire: Mapping[str, Any]) -> None:
        """Add the totals another process kept (:meth:`to_wire`)."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + wire[name])
        self.latencies.frombytes(wire["latencies"])

    def summary(self) -> dict[str, Any]:
        """What ``usage_summary(items, prices=None)`` gives for the same items."""
        latencies = list(self.latencies)
        summary: dict[str, Any] = {
            "called": self.called,
            "cached": self.cached,
            "replayed": self.replayed,
            "rows_with_usage": self.rows_with_usage,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "tokens_per_row": (
                self.total_tokens / self.rows_with_usage if self.rows_with_usage else None
            ),
            "latency_p50_s": percentile(latencies, 50),
            "latency_p95_s": percentile(latencies, 95),
            "cost_usd": None,
            "unpriced": [],
        }
        if self.judge_calls:
            summary.update(
                judge_calls=self.judge_calls,
                judge_input_tokens=self.judge_input_tokens,
                judge_output_tokens=self.judge_output_tokens,
                judge_total_tokens=self.judge_total_tokens,
            )
        summary["spent_tokens"] = self.total_tokens + self.judge_total_tokens
        summary["no_usage"] = self.called_rows - self.rows_with_usage
        return summary


def judge_usages(items: Iterable[ItemResult]) -> list[Usage]:
    """The usage each scorer call (an LLM judge) reported in its metadata, in this run."""
    found = []
    for item in items:
        scores = [s for repeat in item.repeats for s in repeat.scores] or item.scores
        for score in scores:
            usage = _scorer_usage(score)
            if usage is not None:
                found.append(usage)
    return found


def _scorer_usage(score: ScorerResult) -> Usage | None:
    meta = score.metadata
    raw = meta.get("usage") if isinstance(meta, dict) else None
    if not isinstance(raw, dict):
        return None
    model = meta.get("served_model") or meta.get("model")
    if isinstance(model, str) and ":" in model:
        model = model.split(":", 1)[1]  # "openai:gpt-4o-mini" is priced as "gpt-4o-mini"
    return read_usage({"usage": raw, "model": model if isinstance(model, str) else None})


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
