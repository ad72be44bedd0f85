"""The ``prune`` command: delete old runs from the store, never the ini file's baseline."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta, timezone

from pytest_datasetrun.cli.common import EXIT_OK, EXIT_USAGE, ini_file, store_from_args
from pytest_datasetrun.errors import DatasetrunError
from pytest_datasetrun.record.run import RunRecord

__all__ = ("register",)

_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "prune",
        help="delete old runs (never a baseline named in the ini file)",
        description="Delete runs and their items. With both options a run is deleted only when "
        "it is older than the age AND not among the newest N. The run named by the ini key "
        "datasetrun_baseline is always kept.",
    )
    cmd.add_argument("--keep", type=int, metavar="N", help="keep the newest N runs")
    cmd.add_argument("--older-than", metavar="AGE", help="delete runs older than AGE: 30d, 12h, 2w")
    cmd.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    cmd.set_defaults(func=_cmd_prune)


def _cmd_prune(args: argparse.Namespace) -> int:
    if args.keep is None and args.older_than is None:
        print(
            "pytest-datasetrun prune: error: give --keep N and/or --older-than AGE", file=sys.stderr
        )
        return EXIT_USAGE
    if args.keep is not None and args.keep < 0:
        raise DatasetrunError(f"--keep: {args.keep} is negative")
    cutoff = _cutoff(args.older_than) if args.older_than else None
    store = store_from_args(args)
    runs = list(reversed(store.runs()))  # newest first
    protected = _protected(store, runs)
    doomed = [
        run
        for n, run in enumerate(runs)
        if run.run_id not in protected
        and (args.keep is None or n >= args.keep)
        and (cutoff is None or run.started_at < cutoff)
    ]
    for run in doomed:
        print(f"{'would delete' if args.dry_run else 'deleted'} {run.run_id}  {run.name}")
    if not args.dry_run and doomed:
        from pytest_datasetrun.store.runstore import delete_runs

        delete_runs(store.path, [run.run_id for run in doomed])
    kept = len(runs) - len(doomed)
    note = f"; kept baseline {', '.join(sorted(protected))}" if protected else ""
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {len(doomed)} of {len(runs)} runs in {store.path}, {kept} kept{note}")
    return EXIT_OK


def _cutoff(text: str) -> datetime:
    match = _AGE.match(text.strip().lower())
    if not match:
        raise DatasetrunError(f"--older-than: {text!r} is not an age such as 30d, 12h or 2w")
    delta = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    return datetime.now(timezone.utc) - delta


def _protected(store: object, runs: list[RunRecord]) -> set[str]:
    """The run ids the ini file's ``datasetrun_baseline`` names (by id, name or reference)."""
    refs = ini_file().get("datasetrun_baseline") or ""
    refs = refs if isinstance(refs, list) else str(refs).split()
    ids: set[str] = set()
    for ref in refs:
        ids.update(run.run_id for run in runs if ref in (run.run_id, run.name))
        try:
            ids.add(store.resolve(ref))  # type: ignore[attr-defined]
        except DatasetrunError:
            pass  # a baseline that names no run protects nothing
    return ids
