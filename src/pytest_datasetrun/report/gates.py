"""The "quality gate" terminal section."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_datasetrun.record.run import GateResult

__all__ = ("gate_value", "render_gates")


def render_gates(results: Iterable[GateResult]) -> str:
    """The "quality gate" terminal section: one line per gate, then the verdict.

    :param results: the evaluated gates.
    :returns: the text, ending with a newline; empty when there are no gates.
    """
    results = list(results)
    if not results:
        return ""
    width = max(len(r.gate) for r in results)
    limit_width = max(len(r.limit) for r in results)
    lines = [
        f"  {'PASS' if r.passed else 'FAIL'}  {r.gate:<{width}}  {gate_value(r):>7}  "
        f"{r.limit:<{limit_width}}  {r.detail}".rstrip()
        for r in results
    ]
    failed = sum(not r.passed for r in results)
    verdict = f"FAILED ({failed} of {len(results)} gates)" if failed else "passed"
    return "\n".join([f"quality gate: {verdict}", *lines]) + "\n"


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
