"""Aligned plain-text tables and the pass/fail marks used in them, for the CLI and the plugin."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence

from pytest_datasetrun.report.escape import safe_text

__all__ = (
    "display_width",
    "fit",
    "fit_widths",
    "marks",
    "num",
    "one_line",
    "render_line",
    "render_table",
)

_GAP = 2  # spaces between columns


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None = None,
    flexible: Sequence[int] | None = None,
) -> str:
    """An aligned plain-text table that fits in ``width`` columns where it can.

    :param headers: the column titles.
    :param rows: the cells, as strings.
    :param width: the line width (default: the terminal's, 100 when not a terminal).
    :param flexible: the columns that may be truncated to fit (default: all but the first).
    :returns: the table, one line per row plus the header, ending with a newline.
    """
    cells = [[one_line(cell) for cell in row] for row in [headers, *rows]]
    natural = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    widths = fit_widths(headers, natural, width=width, flexible=flexible)
    return "\n".join(render_line(row, widths) for row in cells) + "\n"


def fit_widths(
    headers: Sequence[str],
    natural: Sequence[int],
    *,
    width: int | None = None,
    flexible: Sequence[int] | None = None,
) -> list[int]:
    """Column widths that fit in ``width``, narrowing the widest flexible column first.

    :param headers: the column titles.
    :param natural: each column's widest cell (headers included), after :func:`one_line`.
    :returns: the widths to give :func:`render_line`.
    """
    width = width or shutil.get_terminal_size((100, 24)).columns
    flexible = range(1, len(headers)) if flexible is None else flexible
    widths = list(natural)
    while sum(widths) + _GAP * (len(widths) - 1) > width:
        widest = max(flexible, key=lambda i: widths[i], default=None)
        if widest is None or widths[widest] <= max(8, display_width(headers[widest])):
            break
        widths[widest] -= 1
    return widths


def render_line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """One table line (no newline) of cells already made one-line by :func:`one_line`."""
    return (" " * _GAP).join(fit(cell, widths[i]) for i, cell in enumerate(cells)).rstrip()


def one_line(text: object) -> str:
    """A cell's text on one line: runs of whitespace become one space."""
    return safe_text(" ".join(str(text).split()))


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: 2 per CJK (East Asian wide) character, 0 per combining mark."""
    if text.isascii():  # what wcswidth gives it (a control character counts as one)
        return len(text)
    from wcwidth import wcswidth

    width = wcswidth(text)
    return len(text) if width < 0 else width  # < 0: a control character; count it as one


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded (or cut with an ellipsis) to exactly ``width`` terminal columns."""
    used = display_width(text)
    if used <= width:
        pad = " " * (width - used)
        return pad + text if right else text + pad
    from wcwidth import wcwidth

    ellipsis = "…" if marks()[0] == "✓" else "~"
    kept, used = [], 0
    for char in text:
        columns = max(wcwidth(char), 0)
        if used + columns > width - 1:
            break
        kept.append(char)
        used += columns
    return "".join(kept) + ellipsis + " " * (width - 1 - used)


def num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def marks() -> tuple[str, str, str]:
    """Pass/fail/error marks; ASCII when stdout cannot encode check marks."""
    try:
        "✓✗…".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok", "x", "E"
    return "✓", "✗", "E"
