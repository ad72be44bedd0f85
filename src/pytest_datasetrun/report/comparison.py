"""The baseline comparison as terminal text: a per-scorer table, the item flips, the verdict."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_datasetrun.analysis.compare import Comparison, ScorerComparison

__all__ = ("render_comparison",)

_SHOWN_IDS = 10


def render_comparison(comparison: Comparison) -> str:
    """The comparison as terminal text: a per-scorer table, the item flips and any warnings.

    :param comparison: the result of :func:`compare_runs`.
    :returns: the text, ending with a newline.
    """
    c = comparison
    lines = [
        f"base      {c.base_run}  {c.base_name}".rstrip(),
        f"candidate {c.cand_run}  {c.cand_name}".rstrip(),
        f"{c.shared} shared items, {len(c.removed)} only in base, {len(c.added)} only in candidate; "
        f"significance {c.significance:g}, {_correction(c)}",
        "",
        *_scorer_table(c),
        *_legend(c),
        "",
    ]
    for title, ids in _flip_lists(c):
        if ids:
            lines.append(f"{title} ({len(ids)}): {_id_list(ids)}")
    lines.extend(f"warning: {w}" for w in c.warnings)
    regressed = [s.id for s in c.scorers if s.regression]
    verdict = f"REGRESSION in {', '.join(regressed)}" if regressed else "no regression"
    lines.append(f"result: {verdict}{_verdict_basis(c)}")
    return "\n".join(lines) + "\n"


def _correction(c: Comparison) -> str:
    tested = sum(s.p_adjusted is not None for s in c.scorers)
    if c.correction == "holm" and tested > 1:
        return f"Holm-corrected over {tested} scorers"
    return "no correction for several scorers" if tested > 1 else "one scorer tested"


def _verdict_basis(c: Comparison) -> str:
    """What went into the verdict: the correction and the errored rows (issue 10.2, 10.3)."""
    parts = []
    tested = sum(s.p_adjusted is not None for s in c.scorers)
    if tested > 1:
        parts.append("Holm-corrected" if c.correction == "holm" else "uncorrected")
    base = max((s.base_target_errors for s in c.scorers), default=0)
    cand = max((s.cand_target_errors for s in c.scorers), default=0)
    if base or cand:
        how = "counted as 0" if c.target_errors == "zero" else "left out"
        parts.append(f"target-errored rows {how}: {base} base, {cand} candidate")
    scorer = sum(s.base_errors + s.cand_errors for s in c.scorers)
    if scorer:
        parts.append(f"{scorer} scorer errors left out")
    return f" ({'; '.join(parts)})" if parts else ""


def _legend(c: Comparison) -> list[str]:
    """Say what each interval is, and flag one that disagrees with the test (issue 10.5)."""
    methods: dict[str, list[str]] = {}
    for s in c.scorers:
        if s.ci_method and s.ci_level:
            methods.setdefault(f"{s.ci_level:.0%} {s.ci_method}", []).append(s.id)
    lines = [f"CI: {how} for {', '.join(ids)}" for how, ids in methods.items()]
    if any(not s.ci_agrees for s in c.scorers):
        lines.append(
            "*: this interval and the verdict's test disagree (the interval is not corrected "
            "for several scorers, or is a bootstrap one); the test decides"
        )
    return ["", *lines] if lines else []


def _scorer_table(c: Comparison) -> list[str]:
    holm = c.correction == "holm" and sum(s.p_adjusted is not None for s in c.scorers) > 1
    headers = ["scorer", "n", "base", "cand", "diff", "CI", "p (Holm)" if holm else "p", "verdict"]
    rows = [headers]
    for s in c.scorers:
        ci = "-" if s.ci_low is None else f"[{s.ci_low:+.3f}, {s.ci_high:+.3f}]"
        ci += "" if s.ci_agrees else "*"
        rows.append([
            s.id, str(s.n), _num(s.base_mean), _num(s.cand_mean), _num(s.diff, "+"), ci,
            _p(s.p_adjusted), _verdict(s),
        ])  # fmt: skip
    if len(rows) == 1:
        return ["no scorer ran in both runs"]
    widths = [max(len(row[i]) for row in rows) for i in range(len(headers) - 1)]
    return ["  ".join([*(row[i].ljust(w) for i, w in enumerate(widths)), row[-1]]) for row in rows]


def _verdict(s: ScorerComparison) -> str:
    if s.regression:
        verdict = "REGRESSION"
    elif s.too_small:
        verdict = "too small to tell"
    elif s.significant:
        verdict = "improved" if s.diff and s.diff > 0 else "allowed drop"
    elif s.n >= 2 and s.informative == 0:
        return "identical"
    else:
        verdict = "no significant change"
    return f"{verdict} {_short_note(s)}".rstrip()


def _short_note(s: ScorerComparison) -> str:
    parts = []
    if s.mde is not None and not s.significant:
        parts.append("MDE none" if s.mde == float("inf") else f"MDE {s.mde:.3f}")
    if s.max_regression and (s.regression or s.diff and s.diff < 0):
        parts.append(f"max drop {s.max_regression:g}")
    if s.base_target_errors or s.cand_target_errors:
        parts.append(f"target errors {s.base_target_errors}->{s.cand_target_errors}")
    if s.base_errors or s.cand_errors:
        parts.append(f"scorer errors {s.base_errors}->{s.cand_errors}")
    return f"({', '.join(parts)})" if parts else ""


def _flip_lists(c: Comparison) -> list[tuple[str, list[str]]]:
    return [
        ("passed -> failed", c.newly_failed),
        ("failed -> passed", c.newly_passed),
        ("new errors", c.new_errors),
        ("fixed errors", c.fixed_errors),
        ("only in base", c.removed),
        ("only in candidate", c.added),
    ]


def _id_list(ids: Sequence[str]) -> str:
    shown = [i if len(i) <= 40 else i[:39] + "~" for i in ids[:_SHOWN_IDS]]
    more = f" (+{len(ids) - _SHOWN_IDS} more)" if len(ids) > _SHOWN_IDS else ""
    return ", ".join(shown) + more


def _num(value: float | None, sign: str = "") -> str:
    return "-" if value is None else f"{value:{sign}.3f}"


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 0.0001 else "<0.0001"
