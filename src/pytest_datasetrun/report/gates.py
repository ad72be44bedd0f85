"""The "quality gate" terminal section."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterable

from pytest_datasetrun.analysis.figures import gate_value
from pytest_datasetrun.record.run import GateResult
from pytest_datasetrun.report.table import display_width, fit, fit_widths

__all__ = ("gate_value", "render_gates")

_INDENT = "  "
_MIN_DETAIL = 20  # narrower than this, the detail goes on lines of its own under the gate


def render_gates(results: Iterable[GateResult], *, width: int | None = None) -> str:
    """The "quality gate" terminal section: one line per gate, then the verdict.

    Lines fit in ``width`` like the other tables: a long gate name is cut with an ellipsis and
    the detail wraps under its column (or under the gate when the terminal is very narrow).

    :param results: the evaluated gates.
    :param width: the line width (default: the terminal's, 100 when not a terminal).
    :returns: the text, ending with a newline; empty when there are no gates.
    """
    results = list(results)
    if not results:
        return ""
    width = width or shutil.get_terminal_size((100, 24)).columns
    rows = [
        ["PASS" if r.passed else "FAIL", r.gate, f"{gate_value(r):>7}", r.limit] for r in results
    ]
    natural = [max(display_width(row[i]) for row in rows) for i in range(4)]
    widths = _widths(natural, results, width)
    lines = []
    for row, result in zip(rows, results, strict=True):
        head = _INDENT + "  ".join(fit(cell, w) for cell, w in zip(row, widths, strict=True))
        lines += _with_detail(head, result.detail, width)
    failed = sum(not r.passed for r in results)
    verdict = f"FAILED ({failed} of {len(results)} gates)" if failed else "passed"
    return "\n".join([f"quality gate: {verdict}", *lines]) + "\n"


def _widths(natural: list[int], results: list[GateResult], width: int) -> list[int]:
    """Column widths leaving room for the details inline, else (too narrow) for the columns."""
    detail = max((display_width(r.detail) for r in results), default=0)
    reserve = min(detail, _MIN_DETAIL) + 2 if detail else 0
    room = width - len(_INDENT)
    widths = fit_widths(["", "", "", ""], natural, width=room - reserve, flexible=(1,))
    if sum(widths) + 2 * 3 > room - reserve:  # the details go under their gate anyway
        widths = fit_widths(["", "", "", ""], natural, width=room, flexible=(1,))
    return widths


def _with_detail(head: str, detail: str, width: int) -> list[str]:
    """``head`` then ``detail``, wrapped to ``width`` under its column, else under the gate."""
    if not detail:
        return [head.rstrip()]
    column = display_width(head) + 2
    if width - column >= min(display_width(detail), _MIN_DETAIL):
        parts = textwrap.wrap(detail, width - column, break_on_hyphens=False)
        return [f"{head}  {parts[0]}", *(" " * column + part for part in parts[1:])]
    under = " " * (len(_INDENT) * 3)
    parts = textwrap.wrap(detail, max(width - len(under), _MIN_DETAIL), break_on_hyphens=False)
    return [head.rstrip(), *(under + part for part in parts)]
