"""Plain-text renderings of item results for failures and ``-v`` lines."""

from __future__ import annotations

import json
from typing import Any

from pytest_datasetrun.record.light import ResultRow, ScoreRow
from pytest_datasetrun.record.results import ItemResult, ScorerResult
from pytest_datasetrun.report.escape import safe_text

__all__ = ("failure_text", "verbose_scores", "short")

_MAX_VALUE = 300


def short(value: Any, limit: int = _MAX_VALUE) -> str:
    """A one-line JSON-ish rendering of a value, cut at ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _verdict(score: ScorerResult | ScoreRow) -> str:
    if score.error:
        return "ERROR"
    if score.passed is None:
        return "-"
    return "pass" if score.passed else "FAIL"


def _headline(result: ItemResult | ResultRow) -> str:
    if result.error:
        return f"target error: {result.error}"
    failed = [s for s in result.scores if s.passed is False]
    errored = [s for s in result.scores if s.error]
    parts = [_below(s) for s in failed if s.value is not None and s.threshold is not None]
    parts += [f"{s.id} errored: {s.error}" for s in errored]
    if result.repeats and not parts:
        passed = sum(r.passed for r in result.repeats)
        parts.append(f"{passed}/{len(result.repeats)} repeats passed")
    return "; ".join(parts) or result.status


def _below(score: ScorerResult | ScoreRow) -> str:
    meta = score.metadata
    if "repeat_policy" in meta:
        return (
            f"{score.id} passed {meta['repeats_passed']}/{meta['repeats']} repeats "
            f"(policy {meta['repeat_policy']})"
        )
    return f"{score.id}={score.value:.3g} < {score.threshold:g}"


def failure_text(node_id: str, result: ItemResult | ResultRow) -> str:
    """The failure message of an item: a summary line, then input/expected/output and a scorer table."""
    lines = [_headline(result), ""]
    lines.append(f"  item:     {result.item_id}")
    lines.append(f"  input:    {short(result.input)}")
    if result.expected is not None:
        lines.append(f"  expected: {short(result.expected)}")
    if result.error is None:
        lines.append(f"  output:   {short(result.output)}")
    if result.repeats:
        verdicts = " ".join("pass" if r.passed else "FAIL" for r in result.repeats)
        lines.append(f"  repeats:  {verdicts}")
    if result.scores:
        width = max(len("scorer"), *(len(s.id) for s in result.scores))
        lines.append("")
        lines.append(f"  {'scorer'.ljust(width)}  value  threshold  verdict  reason")
        for s in result.scores:
            value = "-" if s.value is None else f"{s.value:.3f}"
            threshold = "-" if s.threshold is None else f">= {s.threshold:g}"
            reason = s.error or s.reason or ""
            lines.append(
                f"  {s.id.ljust(width)}  {value:>5}  {threshold:<9}  {_verdict(s):<7}  {short(reason, 160)}"
            )
    return safe_text("\n".join(lines), multiline=True)


def verbose_scores(payload: str) -> str:
    """``exact_match=1 contains=0.5 judge=ERR`` for the ``-v`` line of an item (from its JSON payload)."""
    data = json.loads(payload)
    parts = []
    for score in data.get("scores", ()):
        value = score.get("value")
        parts.append(f"{score['id']}={'ERR' if score.get('error') else format(value, '.3g')}")
    if data.get("error"):
        parts.append("target-error")
    return safe_text(" ".join(parts))
