"""Report files written at session end: ``--report-md``, ``$GITHUB_STEP_SUMMARY``, ``--report-html``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_datasetrun.plugin.context import RunContext
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("write_reports", "STEP_SUMMARY_ENV")

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def write_reports(ctx: RunContext, record: RunRecord, comparison: Any) -> list[str]:
    """Write every report asked for; returns the lines to show (where each went, or why not)."""
    config = ctx.config
    messages: list[str] = []
    store = _shown(ctx, ctx.options.store) if ctx.options.store else None
    md_path = config.getoption("report_md", None)
    summary = os.environ.get(STEP_SUMMARY_ENV)
    if md_path or summary:
        from pytest_datasetrun.report.markdown import render_markdown

        text = render_markdown(record, comparison, store=store)
        if md_path:
            messages.append(_write(_resolve(ctx, md_path), text, "Markdown report", ctx))
        if summary:
            messages.append(_write(Path(summary), text, "step summary", ctx, append=True))
    html_path = config.getoption("report_html", None)
    if html_path:
        messages.append(_write_html(ctx, record, comparison, _resolve(ctx, html_path)))
    return messages


def _write_html(ctx: RunContext, record: RunRecord, comparison: Any, path: Path) -> str:
    try:
        from pytest_datasetrun.report.html import render_html
    except ImportError as exc:
        return f"ERROR: --report-html needs jinja2 (pip install 'pytest-datasetrun[html]'): {exc}"
    return _write(path, render_html(record, comparison), "HTML report", ctx)


def _write(path: Path, text: str, what: str, ctx: RunContext, append: bool = False) -> str:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        return f"ERROR: the {what} was not written to {path}: {exc}"
    return f"{what} written to {_shown(ctx, path)}"


def _resolve(ctx: RunContext, raw: str) -> Path:
    return (ctx.config.invocation_params.dir / os.path.expanduser(raw)).resolve()


def _shown(ctx: RunContext, path: Path | None) -> str:
    try:
        return Path(str(path)).relative_to(ctx.config.invocation_params.dir).as_posix()
    except ValueError:
        return str(path)
