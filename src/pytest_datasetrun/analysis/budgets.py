"""Budgets: ``--max-cost``, ``--max-tokens``, ``--max-latency-p95`` and ``--max-cost-increase``.

Checked on a run's usage summary (:func:`pytest_datasetrun.analysis.costs.usage_summary`); each
budget becomes a :class:`~pytest_datasetrun.record.run.GateResult` beside the quality gates.
A budget that cannot be measured (no price for a model that was called) fails and says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_datasetrun.analysis.figures import gate_value
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
    *,
    labels: Mapping[str, str] | None = None,
) -> BudgetSpec:
    """Parse the budget options; :class:`ConfigError` names the option and the bad value.

    :param labels: how to name each budget (``max_cost`` to ``datasetrun_max_cost`` when the
        ini file set it); the flag by default.
    """
    label = {n: "--" + n.replace("_", "-") for n in _NAMES} | dict(labels or {})
    tokens = None
    if max_tokens is not None:
        tokens = int(_number(label["max_tokens"], max_tokens))
        if tokens != _number(label["max_tokens"], max_tokens):
            raise ConfigError(f"{label['max_tokens']}: {max_tokens!r} is not a whole number")
    increase = max_cost_increase.strip().removesuffix("%") if max_cost_increase else None
    latency = max_latency_p95
    return BudgetSpec(
        max_cost=_number(label["max_cost"], max_cost.strip().lstrip("$")) if max_cost else None,
        max_tokens=tokens,
        max_latency_p95=_number(label["max_latency_p95"], latency) if latency else None,
        max_cost_increase=_number(label["max_cost_increase"], increase) if increase else None,
    )


_NAMES = ("max_cost", "max_tokens", "max_latency_p95", "max_cost_increase")


def _number(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a number") from None
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ConfigError(f"{option}: {text!r} must be a non-negative number")
    return value


def evaluate_budgets(
    usage: dict[str, Any], spec: BudgetSpec, shared: dict[str, Any] | None = None
) -> list[GateResult]:
    """One result per budget in ``spec``, measured on the run's usage summary.

    :param shared: for ``--max-cost-increase``, :func:`~pytest_datasetrun.analysis.costs.shared_row_costs`
        of the baseline and this run.
    """
    results = []
    if spec.max_cost is not None:
        results.append(_cost(usage, spec.max_cost))
    if spec.max_tokens is not None:
        tokens = usage.get("spent_tokens", usage.get("total_tokens", 0))
        detail = f"{tokens:,} tokens over {_calls(usage.get('called', 0))}"
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
        results.append(_increase(usage, spec.max_cost_increase, shared))
    return results


def _cost(usage: dict[str, Any], limit: float) -> GateResult:
    cost, unpriced = usage.get("cost_usd"), usage.get("unpriced") or []
    shown = f"<= ${limit:g}"
    why = _unmeasurable(usage)
    if why is not None:
        return GateResult(
            gate="cost", value=None, limit=shown, passed=False, detail=f"cannot be measured: {why}"
        )
    assert cost is not None and not unpriced
    detail = f"${cost:.4f} over {_calls(usage.get('called', 0))}"
    if usage.get("judge_cost_usd") is not None:
        detail += f" (judge calls ${usage['judge_cost_usd']:.4f})"
    detail += _no_usage(usage) + _free(usage)
    return GateResult(gate="cost", value=cost, limit=shown, passed=cost <= limit, detail=detail)


def _unmeasurable(usage: dict[str, Any]) -> str | None:
    """Why the run's cost is unknown: no price table, an unpriced model, no usage at all."""
    if usage.get("cost_usd") is None:
        return "no price table (--prices or datasetrun_prices)"
    if usage.get("unpriced"):
        return f"no price for {', '.join(usage['unpriced'])}"
    if usage.get("usage_unreported"):
        return "no successful target call reported its usage"
    return None


def _calls(n: int) -> str:
    return f"{n} target call" + ("" if n == 1 else "s")


def _no_usage(usage: dict[str, Any]) -> str:
    n = usage.get("no_usage", 0)
    return f"; {_calls(n)} reported no usage ($0)" if n else ""


def _latency(usage: dict[str, Any], limit: float) -> GateResult:
    p95 = usage.get("latency_p95_s")
    shown = f"<= {limit:g} s"
    if p95 is None:
        detail = "no target calls in this run" + _free(usage)
        return GateResult(gate="latency p95", value=None, limit=shown, passed=True, detail=detail)
    detail = f"p95 {p95:.3f} s over {_calls(usage.get('called', 0))}"
    return GateResult(
        gate="latency p95", value=p95, limit=shown, passed=p95 <= limit, detail=detail
    )


def _increase(usage: dict[str, Any], limit: float, shared: dict[str, Any] | None) -> GateResult:
    """Cost of the rows both runs measured, this run against the baseline (#13 review 5)."""
    shown = f"<= +{limit:g}%"

    def result(passed: bool, detail: str, value: float | None = None) -> GateResult:
        return GateResult(
            gate="cost increase", value=value, limit=shown, passed=passed, detail=detail
        )

    if usage.get("cost_usd") is None or shared is None:
        missing = "this run" if usage.get("cost_usd") is None else "the baseline"
        return result(
            False,
            f"cannot be measured: {missing} has no cost (a price table and --baseline are needed)",
        )
    if shared["unpriced"]:
        return result(False, f"cannot be measured: no price for {', '.join(shared['unpriced'])}")
    rows, cost, base = shared["rows"], shared["cost_usd"], shared["baseline_cost_usd"]
    if not base:
        why = "no rows in common" if not rows else f"$0 over the {_n_rows(rows)} both runs share"
        return result(True, f"skipped: the baseline has no measured cost ({why})")
    pct = (cost - base) / base * 100
    detail = f"${cost:.4f} vs baseline ${base:.4f} over the {_n_rows(rows)} both runs share"
    return result(pct <= limit, detail, pct)


def _n_rows(n: int) -> str:
    return f"{n} row" + ("" if n == 1 else "s")


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
    """The bare figure (:func:`~pytest_datasetrun.analysis.figures.gate_value`) in words."""
    if result.value is None:
        return "not measured"
    bare = gate_value(result)
    if result.gate == "tokens":
        return f"{bare} tokens"
    if result.gate == "latency p95":
        return f"p95 latency {bare} s"
    return f"cost {bare}"
