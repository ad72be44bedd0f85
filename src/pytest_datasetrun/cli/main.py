"""The ``pytest-datasetrun`` command: list, show and export the runs in a run store.

Subcommands are plugged in through :data:`COMMANDS`: each entry names a command and the
module and ``register(subparsers) -> None`` function that adds it (and maybe others), whose
``func`` default is ``(args) -> int``. Only the module of the command given is imported, so a
command starts without loading what the others need. Exit codes: 0 ok, 1 a comparison found a regression, 2 usage error or a run
or store that cannot be found or read.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from importlib import import_module

from pytest_datasetrun.cli.common import EXIT_OK, EXIT_USAGE, STORE_HELP
from pytest_datasetrun.errors import DatasetrunError
from pytest_datasetrun.report.escape import safe_text
from pytest_datasetrun.store.index import StoreWarning

__all__ = ("COMMANDS", "build_parser", "main")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    :param argv: the arguments without the program name (default: ``sys.argv[1:]``).
    :returns: the exit code.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(argv))
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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every command of :data:`COMMANDS` registered.

    :param command: register only the module of this command (``None``: all of them).
    :returns: the parser; ``--store`` is accepted before or after the command name (except by
        commands that do not read the store).
    """
    parser = argparse.ArgumentParser(
        prog="pytest-datasetrun",
        description="Inspect the dataset runs recorded by pytest-datasetrun.",
        epilog="exit codes: 0 ok, 1 regression found (compare), 2 usage error or run not found",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--run-store", "--store", dest="store", metavar="PATH", help=STORE_HELP)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    registered: set[tuple[str, str]] = set()
    for name, where in COMMANDS.items():
        if where not in registered and command in (None, name):
            registered.add(where)
            getattr(import_module(f"pytest_datasetrun.cli.{where[0]}"), where[1])(subparsers)
    for name, sub in subparsers.choices.items():
        if name in _NO_STORE:
            continue
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


def _command(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (``None`` when there is none or it is unknown)."""
    args = iter(argv)
    for arg in args:
        if arg in ("--store", "--run-store"):
            next(args, None)
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


#: Command name -> (module in :mod:`pytest_datasetrun.cli`, its register function), in the
#: order of ``--help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "runs": ("runs", "register_runs"),
    "show": ("show", "register_show"),
    "export": ("export", "register_export"),
    "compare": ("compare", "register"),
    "flaky": ("compare", "register"),
    "history": ("compare", "register"),
    "rescore": ("rescore", "register"),
    "cache": ("cache", "register"),
    "prune": ("prune", "register"),
    "report": ("report", "register"),
}
_NO_STORE = {"cache"}  # commands that do not read the run store take no --store
