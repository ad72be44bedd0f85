"""The run as GitHub-flavoured Markdown: for ``--report-md`` and ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_datasetrun.analysis.intervals import mean_interval
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.report.render import short

if TYPE_CHECKING:
    from pytest_datasetrun.analysis.compare import Comparison
    from pytest_datasetrun.record.results import ItemResult
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("render_markdown", "md_cell")

_MAX_ROWS = 20
_MAX_CELL = 160
_MD_SPECIAL = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "#": "\\#",
    }
)


def md_cell(value: object, limit: int = _MAX_CELL) -> str:
    """One table cell from any text: one line, cut at ``limit``, no Markdown or HTML in effect."""
    text = " ".join(safe_text(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_MD_SPECIAL)


def render_markdown(
    record: RunRecord,
    comparison: Comparison | None = None,
    *,
    store: str | None = None,
    max_rows: int = _MAX_ROWS,
) -> str:
    """The whole report: verdict, counts, scorers, gates, baseline comparison, failing rows.

    :param record: the finished run.
    :param comparison: the baseline comparison, if one was made.
    :param store: where the run was stored (for the "see it locally" line).
    :param max_rows: failing rows listed at most.
    :returns: Markdown text ending with a newline.
    """
    parts = [
        _header(record, comparison),
        _counts(record),
        _scorers(record),
        _gates(record),
        _comparison(comparison),
        _failing(record, max_rows),
        _footer(record, store),
    ]
    return "\n".join(part for part in parts if part)


def _verdict(record: RunRecord, comparison: Comparison | None) -> bool:
    gates_ok = all(g.passed for g in record.gates)
    regressed = comparison is not None and comparison.regressed
    c = record.counts
    return gates_ok and not regressed and not (c.failed or c.errored)


def _header(record: RunRecord, comparison: Comparison | None) -> str:
    ok = _verdict(record, comparison)
    target = record.target.name if record.target else "-"
    datasets = ", ".join(md_cell(d.path, 80) for d in record.datasets)
    status = "" if record.status == "completed" else f" ({record.status})"
    return (
        f"## {'✅' if ok else '❌'} datasetrun: {md_cell(record.name, 80)}{status}\n\n"
        f"Target **{md_cell(target, 80)}** on {datasets or '-'} · "
        f"{record.duration_s:.1f} s · commit `{(record.environment.git_commit or '-')[:12]}`\n"
    )


def _table(headers: list[str], rows: list[list[str]], align: str = "") -> str:
    marks = [("---:" if a == "r" else "---") for a in (align or "l" * len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _counts(record: RunRecord) -> str:
    c = record.counts
    headers = ["rows", "passed", "failed", "errored", "skipped", "not run"]
    values = [c.selected, c.passed, c.failed, c.errored, c.skipped, c.not_run]
    return _table(headers, [[str(v) for v in values]], "r" * 6)


def _scorers(record: RunRecord) -> str:
    if not record.aggregates:
        return ""
    rows = []
    for key, agg in record.aggregates.items():
        ci = mean_interval(agg.n, agg.mean, agg.stdev)
        rows.append(
            [
                md_cell(key, 60),
                str(agg.n),
                _num(agg.mean),
                f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "-",
                _num(agg.min),
                _num(agg.max),
                "-" if agg.pass_rate is None else f"{agg.pass_rate:.1%}",
                str(agg.errors),
            ]
        )
    headers = ["scorer", "n", "mean", "95% CI", "min", "max", "pass rate", "errors"]
    return "### Scorers\n\n" + _table(headers, rows, "lrrlrrrr")


def _gates(record: RunRecord) -> str:
    if not record.gates:
        return ""
    failed = sum(not g.passed for g in record.gates)
    verdict = f"failed ({failed} of {len(record.gates)})" if failed else "passed"
    rows = [
        [
            "✅" if g.passed else "❌",
            md_cell(g.gate),
            "-" if g.value is None else f"{g.value:.3f}",
            md_cell(g.limit),
            md_cell(g.detail),
        ]
        for g in record.gates
    ]
    return f"### Quality gate: {verdict}\n\n" + _table(
        ["", "gate", "value", "limit", "detail"], rows
    )


def _comparison(comparison: Comparison | None) -> str:
    if comparison is None:
        return ""
    c = comparison
    regressed = [s.id for s in c.scorers if s.regression]
    verdict = f"❌ regression in {', '.join(regressed)}" if regressed else "✅ no regression"
    rows = [
        [
            md_cell(s.id, 60),
            str(s.n),
            _num(s.base_mean),
            _num(s.cand_mean),
            _num(s.diff, "+"),
            "-" if s.ci_low is None else f"[{s.ci_low:+.3f}, {s.ci_high:+.3f}]",
            "-" if s.p_value is None else f"{s.p_value:.4f}",
            _scorer_verdict(s),
        ]
        for s in c.scorers
    ]
    headers = ["scorer", "n", "base", "candidate", "diff", f"{c.confidence:.0%} CI", "p", "verdict"]
    text = (
        f"### Baseline comparison: {verdict}\n\n"
        f"Baseline {md_cell(c.base_run)} ({md_cell(c.base_name)}), {c.shared} shared rows.\n\n"
    )
    text += _table(headers, rows, "lrrrrlrl")
    flips = [("passed → failed", c.newly_failed), ("failed → passed", c.newly_passed)]
    flips += [("new errors", c.new_errors), ("fixed errors", c.fixed_errors)]
    for title, ids in flips:
        if ids:
            shown = ", ".join(md_cell(i, 60) for i in ids[:_MAX_ROWS])
            more = f" and {len(ids) - _MAX_ROWS} more" if len(ids) > _MAX_ROWS else ""
            text += f"\n- {title} ({len(ids)}): {shown}{more}"
    return text + ("\n" if any(ids for _, ids in flips) else "")


def _scorer_verdict(s: Any) -> str:
    if s.regression:
        return "❌ regression"
    if s.significant:
        return "improved" if (s.diff or 0) > 0 else "allowed drop"
    return "too small to tell" if s.too_small else "no significant change"


def _failing(record: RunRecord, max_rows: int) -> str:
    bad = [item for item in record.items if item.status in ("failed", "errored")]
    if not bad:
        return ""
    c = record.counts
    shown = bad[:max_rows]
    title = f"### Failing rows: {c.failed} failed, {c.errored} errored"
    if len(bad) > len(shown):
        title += f" (first {len(shown)} shown)"
    rows = [[md_cell(i.item_id, 60), i.status, md_cell(_why(i)), _output(i)] for i in shown]
    return title + "\n\n" + _table(["row", "status", "why", "output"], rows)


def _output(item: ItemResult) -> str:
    return "-" if item.output is None and item.error else md_cell(short(item.output), 80)


def _why(item: ItemResult) -> str:
    if item.error:
        return item.error
    parts = [f"{s.id} errored: {s.error}" for s in item.scores if s.error]
    parts += [
        f"{s.id}={s.value:.3g} < {s.threshold:g}"
        for s in item.scores
        if s.passed is False and s.value is not None and s.threshold is not None
    ]
    return "; ".join(parts) or item.status


def _footer(record: RunRecord, store: str | None) -> str:
    where = f" in {md_cell(store, 200)}" if store else ""
    return (
        f"Run `{record.run_id}` stored{where}. See it locally with "
        f"`pytest-datasetrun show {record.run_id} --failed`"
        f" or `pytest-datasetrun report {record.run_id} -o report.html`.\n"
    )


def _num(value: float | None, sign: str = "") -> str:
    return "-" if value is None else f"{value:{sign}.3f}"
