"""The "quality gate" terminal section."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_datasetrun.analysis.figures import gate_value
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
