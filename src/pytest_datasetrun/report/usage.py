"""The summary lines of a run's call sources (replay, cache) and usage (tokens, latency, cost)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("usage_lines",)


def usage_lines(record: RunRecord) -> list[str]:
    """Replay, cache and usage lines (none for a run that used none of them)."""
    lines = []
    if record.replay is not None:
        r = record.replay
        line = f"replay: {len(r['rows'])} rows replayed from run {record.replayed_from}, {r['called']} called the target"
        if r.get("errors_kept"):
            line += f", {r['errors_kept']} stored target errors kept (--replay-errors=rerun retries them)"
        lines.append(line)
    if record.cache is not None:
        c = record.cache
        line = f"cache ({c['mode']}): {c['hits']} hits, {c['misses']} misses, {c['writes']} writes"
        if c.get("corrupt"):
            line += f"; {c['corrupt']} corrupt entries treated as misses"
        lines.append(line)
    if record.usage is not None and _worth_showing(record.usage):
        lines.append(_usage_line(record.usage))
    return lines


def _worth_showing(usage: dict[str, Any]) -> bool:
    return bool(
        usage.get("rows_with_usage")
        or usage.get("judge_calls")
        or usage.get("latency_p50_s") is not None
        or usage.get("cost_usd") is not None
        or usage.get("cached")
        or usage.get("replayed")
    )


def _usage_line(u: dict[str, Any]) -> str:
    parts = [f"usage: {u['called']} target calls"]
    free = u.get("cached", 0) + u.get("replayed", 0)
    if free:
        parts[0] += f" ({free} rows cached/replayed: cost $0)"
    if u.get("rows_with_usage"):
        parts.append(
            f"tokens {u['total_tokens']:,} (in {u['input_tokens']:,}, out {u['output_tokens']:,}; "
            f"{u['tokens_per_row']:,.0f} per row)"
        )
    if u.get("judge_calls"):
        parts.append(f"judge tokens {u['judge_total_tokens']:,} over {u['judge_calls']} calls")
    if u.get("latency_p50_s") is not None:
        parts.append(f"latency p50 {u['latency_p50_s']:.3f} s, p95 {u['latency_p95_s']:.3f} s")
    if u.get("cost_usd") is not None:
        cost = f"cost ${u['cost_usd']:.4f}"
        if u.get("judge_cost_usd") is not None:
            cost += f" (judge ${u['judge_cost_usd']:.4f})"
        if u.get("unpriced"):
            cost += f" (no price for {', '.join(u['unpriced'])})"
        parts.append(cost)
    return "; ".join(parts)
