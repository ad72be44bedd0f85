"""The ``runs`` command: list the stored runs, newest first."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pytest_datasetrun.cli.common import EXIT_OK, store_from_args
from pytest_datasetrun.cli.summary import plain, started_at
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.report.table import num, render_table

__all__ = ("register_runs", "register_show")


def register_runs(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("runs", help="list recorded runs, newest first")
    cmd.add_argument("--json", action="store_true", help="print the run summaries as JSON")
    cmd.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs (0: all)")
    cmd.add_argument("--dataset", metavar="NAME", help="only runs on this dataset (name or path)")
    cmd.add_argument("--name", metavar="NAME", help="only runs with this run name")
    cmd.set_defaults(func=_cmd_runs)


def register_show(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pytest_datasetrun.cli.show import register_show

    register_show(subparsers)


def _cmd_runs(args: argparse.Namespace) -> int:
    store = store_from_args(args)
    runs = [run for run in map(plain, reversed(store.documents())) if run and _keep(run, args)]
    shown = runs[: args.limit] if args.limit > 0 else runs
    if args.json:
        from pytest_datasetrun.record.run import RunRecord

        summaries = [RunRecord.model_validate(run).summary() for run in shown]
        sys.stdout.write(json.dumps(summaries, indent=2) + "\n")
    elif not shown:
        sys.stdout.write(safe_text(f"no runs in store {store.path}") + "\n")
    else:
        sys.stdout.write(render_table(*_runs_table(shown), flexible=(1, 4, 5)))
        if len(shown) < len(runs):
            sys.stdout.write(f"({len(shown)} of {len(runs)} runs shown; --limit 0 shows all)\n")
    return EXIT_OK


def _keep(run: dict[str, Any], args: argparse.Namespace) -> bool:
    if args.name is not None and run["name"] != args.name:
        return False
    if args.dataset is None:
        return True
    return any(
        args.dataset in (info["name"], info["path"], Path(info["path"]).name)
        for info in run["datasets"]
    )


def _runs_table(runs: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """One row per run; the mean of each scorer gets its own column."""
    aggregates = [run["aggregates"].values() for run in runs]
    scorers = list(dict.fromkeys(agg["name"] for aggs in aggregates for agg in aggs))
    headers = ["id", "name", "status", "when", "dataset", "target", "p/f/e/s/nr", *scorers]
    now = datetime.now(timezone.utc)
    rows = []
    for run, aggs in zip(runs, aggregates, strict=True):
        c, means = run["counts"], {agg["name"]: agg["mean"] for agg in aggs}
        target = run["target"]
        rows.append([
            run["run_id"], run["name"], run["status"], _age(now - started_at(run)),
            ",".join(info["name"] for info in run["datasets"]), target["name"] if target else "",
            f"{c['passed']}/{c['failed']}/{c['errored']}/{c['skipped']}/{c['not_run']}",
            *(num(means.get(name)) for name in scorers),
        ])  # fmt: skip
    return headers, rows


def _age(age: timedelta) -> str:
    """A short relative time: ``now``, ``5m ago``, ``3h ago``, ``12d ago``."""
    seconds = age.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "now"
