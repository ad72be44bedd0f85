"""The ``report`` command: a stored run as one self-contained HTML file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_datasetrun.cli.common import EXIT_OK, store_from_args
from pytest_datasetrun.errors import ConfigError

__all__ = ("register",)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "report",
        help="write a run as one offline HTML file",
        description="Write RUN as a self-contained HTML report (needs jinja2: the 'html' extra).",
    )
    cmd.add_argument("run", metavar="RUN", help="run id, prefix, name, latest, latest~N or file")
    cmd.add_argument("--baseline", metavar="RUN", help="compare with this run")
    cmd.add_argument("-o", "--output", metavar="FILE", default="report.html", help="the file")
    cmd.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    try:
        from pytest_datasetrun.report.html import render_html
    except ImportError as exc:  # jinja2 missing
        raise ConfigError(
            f"the report needs jinja2: pip install 'pytest-datasetrun[html]' ({exc})"
        ) from None
    store = store_from_args(args)
    record = store.get(args.run)
    comparison = None
    if args.baseline:
        from pytest_datasetrun.analysis.compare import compare_runs

        comparison = compare_runs(store.get(args.baseline), record)
    path = Path(args.output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(record, comparison), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc}") from None
    print(f"report on run {record.run_id} written to {path}", file=sys.stdout)
    return EXIT_OK
