"""The ``datasetrun`` terminal section's main lines: counts, per-scorer aggregates, repeats."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_datasetrun.report.escape import safe_text

if TYPE_CHECKING:
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("summary_lines",)


def summary_lines(record: RunRecord, *, width: int | None = None, short: bool = False) -> list[str]:
    """Counts, the per-scorer table, the slowest rows and the repeat statistics of one run.

    :param width: the terminal width the table must fit (default: the terminal's).
    :param short: counts only (``-q``).
    """
    c = record.counts
    lines = [
        f"{record.name}  ({record.status}, {record.duration_s:.2f} s)",
        f"items: {c.selected} selected, {c.passed} passed, {c.failed} failed, {c.errored} errored, "
        f"{c.skipped} skipped, {c.not_run} not run",
    ]
    if short:
        return [safe_text(line) for line in lines]
    if record.aggregates:
        lines.extend(_scorer_table(record, width).rstrip("\n").split("\n"))
        lines.extend(_target_errors_line(record))
    slowest = _slowest(record)
    if slowest:
        lines.append(f"slowest: {slowest}")
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
    rows = f"{count} row whose target failed" if count == 1 else f"{count} rows whose target failed"
    if record.options.get("target_errors", "zero") == "exclude":
        left_out = "is left out" if count == 1 else "are left out"
        return [f"{rows} {left_out} of n and mean (--target-errors)"]
    counts = "counts" if count == 1 else "count"
    return [f"{rows} {counts} as 0 in n, mean and pass (errors: scorer errors)"]


def _scorer_table(record: RunRecord, width: int | None) -> str:
    from pytest_datasetrun.analysis.intervals import mean_interval
    from pytest_datasetrun.report.table import render_table

    rows = []
    for key, agg in record.aggregates.items():
        ci = mean_interval(agg.n, agg.mean, agg.stdev)
        interval = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-"
        rows.append([key, f"{agg.n:>5}", _f(agg.mean), f"{interval:>14}", _f(agg.min), _f(agg.max),
                     _pct(agg.pass_rate), f"{agg.errors:>6}"])  # fmt: skip
    headers = ["scorer", f"{'n':>5}", f"{'mean':>6}", f"{'95% CI':>14}", f"{'min':>6}", f"{'max':>6}",
               f"{'pass':>6}", "errors"]  # fmt: skip
    return render_table(headers, rows, width=width, flexible=(0,))


def _slowest(record: RunRecord, count: int = 3) -> str:
    timed = [item for item in record.items if item.target_duration_s > 0]
    timed.sort(key=lambda item: item.target_duration_s, reverse=True)
    return ", ".join(f"{item.item_id} {item.target_duration_s:.2f} s" for item in timed[:count])


def _f(value: float | None) -> str:
    return f"{'-':>6}" if value is None else f"{value:>6.3f}"


def _pct(value: float | None) -> str:
    return f"{'-':>6}" if value is None else f"{value * 100:>5.1f}%"
