"""The ``rescore`` command: score a stored run's outputs again without calling the target."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from pytest_datasetrun.cli.common import EXIT_OK, EXIT_REGRESSION, store_from_args
from pytest_datasetrun.errors import ConfigError

__all__ = ("register", "run_rescore")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rescore`` command."""
    cmd = subparsers.add_parser(
        "rescore",
        help="score a stored run's outputs again (no target calls) and store a new run",
        description="Apply scorers to the outputs of a stored run, on the same engine as "
        "run_dataset(); stored target errors stay errors. The new run is stored (replayed_from "
        "names RUN). Exit status 1 when an item or a gate fails, as in a pytest session.",
    )
    cmd.add_argument("run", metavar="RUN", help="run id, prefix, name, latest~N or a run file")
    cmd.add_argument(
        "--scorer", action="append", default=[], metavar="SPEC", help="a scorer spec; repeatable"
    )
    cmd.add_argument("--fail-under", action="append", default=[], metavar="SCORER=MIN")
    cmd.add_argument("--min-pass-rate", default=None, metavar="R")
    cmd.add_argument("--max-errors", default=None, metavar="N|N%")
    cmd.add_argument(
        "--repeat-policy",
        default=None,
        metavar="POLICY",
        help="all, majority, any or rate:R: how a repeated row passes (default: the stored run's)",
    )
    cmd.add_argument("--name", default=None, metavar="NAME", help="the new run's name")
    cmd.add_argument("--no-store", action="store_true", help="do not store the new run")
    cmd.set_defaults(func=run_rescore)


def run_rescore(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``rescore RUN --scorer ...``: print the summary and gates; 1 on a failure."""
    from pytest_datasetrun.analysis.gates import evaluate_gates, parse_gates
    from pytest_datasetrun.api import rescore_run
    from pytest_datasetrun.report.gates import render_gates
    from pytest_datasetrun.report.summary import summary_lines

    out = out or sys.stdout
    if not args.scorer:
        raise ConfigError("rescore: give at least one --scorer SPEC")
    gates = parse_gates(args.fail_under, args.min_pass_rate, args.max_errors)
    store = store_from_args(args)
    stored = store.get(args.run)
    policy = args.repeat_policy
    if policy is not None:
        _check_policy(policy)
    scorers = _resolve_scorers(args.scorer)
    record = rescore_run(stored, scorers, name=args.name, repeat_policy=policy)
    if gates:
        record.gates = evaluate_gates(record, gates)
    failed = any(not g.passed for g in record.gates) or record.counts.passed < (
        record.counts.selected - record.counts.skipped
    )
    record.exit_status = EXIT_REGRESSION if failed else EXIT_OK
    for line in summary_lines(record):
        print(line, file=out)
    if record.gates:
        print(render_gates(record.gates), end="", file=out)
    if not args.no_store:
        from pytest_datasetrun.store.runstore import write_run

        write_run(store.path, record)
        print(f"run {record.run_id} stored in {store.path}", file=out)
    return record.exit_status


_CONFTEST_HINT = (
    "rescore sees built-in and entry-point scorers only, not conftest.py ones: name a scorer of "
    "your project by import path, e.g. --scorer conftest:my_scorer (run from the project "
    "directory, which rescore puts on sys.path)"
)


def _resolve_scorers(specs: list[str]) -> list[Any]:
    """The scorers named by ``--scorer``; ``module:attr`` resolves against the current directory.

    As pytest's rootdir conftest does, the current directory goes on ``sys.path``, so a
    project's own module (``conftest:my_scorer``) imports without PYTHONPATH.
    """
    from pytest_datasetrun.engine.registry import Registry
    from pytest_datasetrun.engine.spec import SpecList

    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return Registry.discover([], [], []).resolve_scorers(
            [SpecList("rescore --scorer", list(specs))]
        )
    except ConfigError as exc:
        if "unknown scorer" in str(exc):
            raise ConfigError(f"{exc}. {_CONFTEST_HINT}") from None
        raise


def _check_policy(policy: str) -> None:
    from pytest_datasetrun.engine.runner import REPEAT_POLICIES

    rate = policy.removeprefix("rate:")
    try:
        valid = policy in REPEAT_POLICIES or (rate != policy and 0.0 <= float(rate) <= 1.0)
    except ValueError:
        valid = False
    if not valid:
        raise ConfigError(
            f"rescore --repeat-policy: {policy!r} is not all, majority, any or rate:R with R in [0, 1]"
        )
