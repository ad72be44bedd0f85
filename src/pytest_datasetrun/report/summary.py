"""The ``datasetrun`` terminal section's main lines: counts, per-scorer aggregates, repeats."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_datasetrun.report.escape import safe_text

if TYPE_CHECKING:
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("summary_lines",)


def summary_lines(record: RunRecord) -> list[str]:
    """Counts, the per-scorer aggregate table and the repeat statistics of one run."""
    c = record.counts
    lines = [
        f"{record.name}  ({record.status}, {record.duration_s:.2f} s)",
        f"items: {c.selected} selected, {c.passed} passed, {c.failed} failed, {c.errored} errored, "
        f"{c.skipped} skipped, {c.not_run} not run",
    ]
    if record.aggregates:
        width = max(len(key) for key in record.aggregates)
        lines.append(
            f"{'scorer'.ljust(width)}  {'n':>5}  {'mean':>6}  {'min':>6}  {'max':>6}  {'stdev':>6}  {'pass':>6}  errors"
        )
        for key, agg in record.aggregates.items():
            lines.append(
                f"{key.ljust(width)}  {agg.n:>5}  {_f(agg.mean)}  {_f(agg.min)}  {_f(agg.max)}  {_f(agg.stdev)}  "
                f"{_pct(agg.pass_rate)}  {agg.errors}"
            )
        lines.extend(_target_errors_line(record))
    if record.repeats:
        r = record.repeats
        k = r["k"]
        lines.append(
            f"repeats: k={k}, policy {r['policy']}: pass@1 {r['pass@1']:.3f}, pass@{k} {r[f'pass@{k}']:.3f}, "
            f"pass^{k} {r[f'pass^{k}']:.3f}"
        )
        if r["flaky"]:
            shown = ", ".join(r["flaky"][:10]) + (
                f" (+{len(r['flaky']) - 10} more)" if len(r["flaky"]) > 10 else ""
            )
            lines.append(f"flaky rows (repeats disagree): {shown}")
    from pytest_datasetrun.report.usage import usage_lines

    return [safe_text(line) for line in lines + usage_lines(record)]


def _target_errors_line(record: RunRecord) -> list[str]:
    """Say how rows whose target failed entered the table (issue #10): never silently."""
    count = max((agg.target_errors for agg in record.aggregates.values()), default=0)
    if not count:
        return []
    if record.options.get("target_errors", "zero") == "exclude":
        return [f"{count} rows whose target failed are left out of n and mean (--target-errors)"]
    return [
        f"{count} rows whose target failed count as 0 in n, mean and pass (errors: scorer errors)"
    ]


def _f(value: float | None) -> str:
    return f"{'-':>6}" if value is None else f"{value:>6.3f}"


def _pct(value: float | None) -> str:
    return f"{'-':>6}" if value is None else f"{value * 100:>5.1f}%"
