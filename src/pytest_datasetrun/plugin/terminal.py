"""The ``datasetrun`` terminal section, written at the end of the session by the recorder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("write_summary",)


def write_summary(
    terminalreporter: Any,
    config: pytest.Config,
    record: RunRecord | None,
    comparison: Any,
    messages: list[str],
) -> None:
    """The ``datasetrun`` section: counts and aggregates, gates, the baseline comparison, messages."""
    from pytest_datasetrun.report.escape import safe_text
    from pytest_datasetrun.report.summary import summary_lines

    writer = getattr(terminalreporter, "_tw", None)
    width = getattr(writer, "fullwidth", None)
    short = config.get_verbosity() < 0
    lines = summary_lines(record, width=width, short=short) if record is not None else []
    if not lines and not messages:
        return
    terminalreporter.write_sep("=", "datasetrun")
    for line in lines:
        terminalreporter.write_line(line)
    if record is not None and record.gates:
        from pytest_datasetrun.report.gates import render_gates

        text = render_gates(record.gates, width=width).rstrip("\n")
        text = text.split("\n")[0] if short else text
        if not short:
            terminalreporter.write_sep("-", "quality gate")
        terminalreporter.write_line(safe_text(text, multiline=True))
    if comparison is not None:
        from pytest_datasetrun.report.comparison import render_comparison

        text = render_comparison(comparison).rstrip("\n")
        text = "baseline " + text.split("\n")[-1] if short else text
        if not short:
            terminalreporter.write_sep("-", "baseline comparison")
        terminalreporter.write_line(safe_text(text, multiline=True))
    for message in messages:
        terminalreporter.write_line(safe_text(message), red=message.startswith("ERROR"))
