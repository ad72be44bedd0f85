"""The ``pytest-datasetrun`` command: list, show and export the runs in a run store.

Subcommands are plugged in through :data:`COMMANDS`: each entry is a
``register(subparsers) -> None`` that adds one or more subparsers whose ``func`` default is
``(args) -> int``. Exit codes: 0 ok, 1 a comparison found a regression, 2 usage error or a run
or store that cannot be found or read.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from pytest_datasetrun.cli import cache, compare, export, prune, report, rescore, runs
from pytest_datasetrun.cli.common import EXIT_OK, EXIT_USAGE, STORE_HELP
from pytest_datasetrun.errors import DatasetrunError
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.store.runstore import StoreWarning

__all__ = ("COMMANDS", "build_parser", "main")

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    :param argv: the arguments without the program name (default: ``sys.argv[1:]``).
    :returns: the exit code.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not hasattr(args, "func"):
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: a command is required", file=sys.stderr)
        return EXIT_USAGE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", StoreWarning)
            warnings.showwarning = _show_store_warning
            return int(args.func(args))
    except DatasetrunError as exc:
        print(safe_text(f"{parser.prog}: error: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _show_store_warning(message: Warning | str, category: type[Warning], *args: object) -> None:
    prefix = "warning" if issubclass(category, StoreWarning) else category.__name__
    print(safe_text(f"pytest-datasetrun: {prefix}: {message}"), file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command of :data:`COMMANDS` registered.

    :returns: the parser; ``--store`` is accepted before or after the command name.
    """
    parser = argparse.ArgumentParser(
        prog="pytest-datasetrun",
        description="Inspect the dataset runs recorded by pytest-datasetrun.",
        epilog="exit codes: 0 ok, 1 regression found (compare), 2 usage error or run not found",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--run-store", "--store", dest="store", metavar="PATH", help=STORE_HELP)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    for sub in subparsers.choices.values():
        try:  # SUPPRESS: an absent subcommand --run-store keeps the global one
            sub.add_argument(
                "--run-store",
                "--store",
                dest="store",
                metavar="PATH",
                default=argparse.SUPPRESS,
                help=STORE_HELP,
            )
        except argparse.ArgumentError:
            pass  # the command defines its own --store
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-datasetrun")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


COMMANDS: list[Register] = [
    runs.register_runs,
    runs.register_show,
    export.register_export,
    compare.register,
    rescore.register,
    cache.register,
    prune.register,
    report.register,
]
