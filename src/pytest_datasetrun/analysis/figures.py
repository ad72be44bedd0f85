"""A gate's measured figure as shown, bare: "$0.0110", "12,000", "+5.0%", "0.812"."""

from __future__ import annotations

from pytest_datasetrun.record.run import GateResult

__all__ = ("gate_value",)


def gate_value(result: GateResult) -> str:
    """A gate's measured figure as shown: tokens whole, costs in dollars, "-" when unmeasured."""
    value = result.value
    if value is None:
        return "-"
    if result.gate == "errors":
        return f"{value * 100:.1f}%" if result.limit.endswith("%") else str(int(value))
    if result.gate == "tokens":
        return f"{int(value):,}"
    if result.gate == "cost":
        return f"${value:.4f}"
    if result.gate == "cost increase":
        return f"{value:+.1f}%"
    return f"{value:.3f}"
