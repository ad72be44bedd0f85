"""Budgets: ``--max-cost``, ``--max-tokens``, ``--max-latency-p95`` and ``--max-cost-increase``.

Checked on a run's usage summary (:func:`pytest_datasetrun.analysis.costs.usage_summary`); each
budget becomes a :class:`~pytest_datasetrun.record.run.GateResult` beside the quality gates.
A budget that cannot be measured (no price for a model that was called) fails and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.record.run import GateResult

__all__ = ("BudgetSpec", "budget_lines", "evaluate_budgets", "parse_budgets")


@dataclass(frozen=True)
class BudgetSpec:
    max_cost: float | None = None
    max_tokens: int | None = None
    max_latency_p95: float | None = None
    max_cost_increase: float | None = None

    def __bool__(self) -> bool:
        return any(
            v is not None
            for v in (self.max_cost, self.max_tokens, self.max_latency_p95, self.max_cost_increase)
        )


def parse_budgets(
    max_cost: str | None = None,
    max_tokens: str | None = None,
    max_latency_p95: str | None = None,
    max_cost_increase: str | None = None,
) -> BudgetSpec:
    """Parse the budget options; :class:`ConfigError` names the option and the bad value."""
    tokens = None
    if max_tokens is not None:
        tokens = int(_number("--max-tokens", max_tokens))
        if tokens != _number("--max-tokens", max_tokens):
            raise ConfigError(f"--max-tokens: {max_tokens!r} is not a whole number")
    increase = max_cost_increase.strip().removesuffix("%") if max_cost_increase else None
    return BudgetSpec(
        max_cost=_number("--max-cost", max_cost.strip().lstrip("$")) if max_cost else None,
        max_tokens=tokens,
        max_latency_p95=_number("--max-latency-p95", max_latency_p95) if max_latency_p95 else None,
        max_cost_increase=_number("--max-cost-increase", increase) if increase else None,
    )


def _number(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a number") from None
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ConfigError(f"{option}: {text!r} must be a non-negative number")
    return value


def evaluate_budgets(
    usage: dict[str, Any], spec: BudgetSpec, baseline_cost: float | None = None
) -> list[GateResult]:
    """One result per budget in ``spec``, measured on the run's usage summary."""
    results = []
    if spec.max_cost is not None:
        results.append(_cost(usage, spec.max_cost))
    if spec.max_tokens is not None:
        tokens = usage.get("spent_tokens", usage.get("total_tokens", 0))
        detail = f"{tokens:,} tokens over {usage.get('called', 0)} target calls"
        if usage.get("judge_calls"):
            detail += f" and {usage['judge_calls']} judge calls"
        passed = tokens <= spec.max_tokens
        results.append(
            GateResult(
                gate="tokens",
                value=tokens,
                limit=f"<= {spec.max_tokens:,}",
                passed=passed,
                detail=detail,
            )
        )
    if spec.max_latency_p95 is not None:
        results.append(_latency(usage, spec.max_latency_p95))
    if spec.max_cost_increase is not None:
        results.append(_increase(usage, spec.max_cost_increase, baseline_cost))
    return results


def _cost(usage: dict[str, Any], limit: float) -> GateResult:
    cost, unpriced = usage.get("cost_usd"), usage.get("unpriced") or []
    shown = f"<= ${limit:g}"
    if cost is None or unpriced:
        why = (
            "no price table (--prices or datasetrun_prices)"
            if cost is None
            else (f"no price for {', '.join(unpriced)}")
        )
        return GateResult(
            gate="cost", value=cost, limit=shown, passed=False, detail=f"cannot be measured: {why}"
        )
    detail = f"${cost:.4f} over {usage.get('called', 0)} target calls"
    if usage.get("judge_cost_usd") is not None:
        detail += f" (judge calls ${usage['judge_cost_usd']:.4f})"
    detail += _free(usage)
    return GateResult(gate="cost", value=cost, limit=shown, passed=cost <= limit, detail=detail)


def _latency(usage: dict[str, Any], limit: float) -> GateResult:
    p95 = usage.get("latency_p95_s")
    shown = f"<= {limit:g} s"
    if p95 is None:
        detail = "no target calls in this run" + _free(usage)
        return GateResult(gate="latency p95", value=None, limit=shown, passed=True, detail=detail)
    detail = f"p95 {p95:.3f} s over {usage.get('called', 0)} target calls"
    return GateResult(
        gate="latency p95", value=p95, limit=shown, passed=p95 <= limit, detail=detail
    )


def _increase(usage: dict[str, Any], limit: float, base: float | None) -> GateResult:
    cost, shown = usage.get("cost_usd"), f"<= +{limit:g}%"
    if cost is None or base is None:
        missing = "this run" if cost is None else "the baseline"
        detail = (
            f"cannot be measured: {missing} has no cost (a price table and --baseline are needed)"
        )
        return GateResult(
            gate="cost increase", value=None, limit=shown, passed=False, detail=detail
        )
    pct = (cost - base) / base * 100 if base else (math.inf if cost else 0.0)
    detail = f"${cost:.4f} vs baseline ${base:.4f}"
    value = pct if math.isfinite(pct) else None
    return GateResult(
        gate="cost increase", value=value, limit=shown, passed=pct <= limit, detail=detail
    )


def _free(usage: dict[str, Any]) -> str:
    free = usage.get("cached", 0) + usage.get("replayed", 0)
    return f"; {free} cached/replayed rows cost $0" if free else ""


def budget_lines(results: list[GateResult]) -> list[str]:
    """One line per exceeded budget, naming the budget, the figure and the limit."""
    option = {
        "cost": "--max-cost",
        "tokens": "--max-tokens",
        "latency p95": "--max-latency-p95",
        "cost increase": "--max-cost-increase",
    }
    return [
        f"budget {option.get(r.gate, r.gate)} failed: {_figure(r)}, limit {r.limit} ({r.detail})"
        for r in results
        if not r.passed
    ]


def _figure(result: GateResult) -> str:
    value = result.value
    if value is None:
        return "not measured"
    if result.gate == "cost":
        return f"cost ${value:.4f}"
    if result.gate == "tokens":
        return f"{int(value):,} tokens"
    if result.gate == "latency p95":
        return f"p95 latency {value:.3f} s"
    return f"cost {value:+.1f}%"
