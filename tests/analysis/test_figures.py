"""One formatter of a gate's figure: the bare figure of the gate table, and budgets' words around it."""

from __future__ import annotations

import pytest

from pytest_datasetrun.analysis.budgets import budget_lines
from pytest_datasetrun.analysis.figures import gate_value
from pytest_datasetrun.record.run import GateResult
from pytest_datasetrun.report.gates import gate_value as report_gate_value


def gate(name: str, value: float | None, limit: str = "<= 1") -> GateResult:
    return GateResult(gate=name, value=value, limit=limit, passed=False, detail="why")


@pytest.mark.parametrize(
    ("name", "value", "limit", "bare", "worded"),
    [
        ("cost", 0.011, "<= $0.01", "$0.0110", "cost $0.0110"),
        ("tokens", 12000, "<= 10,000", "12,000", "12,000 tokens"),
        ("latency p95", 1.23456, "<= 1 s", "1.235", "p95 latency 1.235 s"),
        ("cost increase", 12.34, "<= +10%", "+12.3%", "cost +12.3%"),
        ("cost", None, "<= $0.01", "-", "not measured"),
    ],
)
def test_budget_lines_put_words_around_the_bare_figure(name, value, limit, bare, worded):
    result = gate(name, value, limit)
    assert gate_value(result) == bare
    assert report_gate_value is gate_value  # the table and the budget lines share one formatter
    option = {"cost": "--max-cost", "tokens": "--max-tokens", "latency p95": "--max-latency-p95"}
    flag = option.get(name, "--max-cost-increase")
    assert budget_lines([result]) == [f"budget {flag} failed: {worded}, limit {limit} (why)"]


@pytest.mark.parametrize(
    ("name", "value", "limit", "bare"),
    [
        ("errors", 0.25, "<= 10%", "25.0%"),
        ("errors", 3, "<= 2", "3"),
        ("exact mean", 0.8125, ">= 0.9", "0.812"),
    ],
)
def test_gate_table_figures(name, value, limit, bare):
    assert gate_value(gate(name, value, limit)) == bare
