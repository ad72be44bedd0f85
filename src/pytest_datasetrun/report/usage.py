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
        line = (
            f"replay: {_n(len(r['rows']), 'row')} replayed from run {record.replayed_from}, "
            f"{r['called']} called the target"
        )
        if r.get("samples_replayed") is not None:
            line += f" ({_n(r['samples_replayed'], 'sample')} replayed, {_n(r['calls'], 'call')})"
        if r.get("errors_kept"):
            line += f", {_n(r['errors_kept'], 'stored target error')} kept"
            hint = r.get("rerun_hint", "--replay-errors=rerun retries them")
            line += f" ({hint})" if hint else ""
        lines.append(line)
    if record.cache is not None:
        c = record.cache
        line = f"cache ({c['mode']}): {c['hits']} hits, {c['misses']} misses, {c['writes']} writes"
        if c.get("corrupt"):
            one = c["corrupt"] == 1
            line += f"; {_n(c['corrupt'], 'corrupt entry', 'corrupt entries')} treated as "
            line += "a miss" if one else "misses"
        lines.append(line)
    if record.usage is not None and _worth_showing(record.usage):
        lines.append(_usage_line(record.usage))
    return lines


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


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
    parts = [f"usage: {_n(u['called'], 'target call')}"]
    free = u.get("cached", 0) + u.get("replayed", 0)
    if free:
        parts[0] += f" ({_n(free, 'row')} cached/replayed: cost $0)"
    if u.get("no_usage") and u.get("rows_with_usage"):  # some did: say how many did not
        parts[0] += f" ({u['no_usage']} reported no usage)"
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
        elif u.get("usage_unreported"):
            cost += " (no call reported usage)"
        parts.append(cost)
    return "; ".join(parts)
