"""What every command shares: exit codes, the store option and its resolution."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_datasetrun.store.location import STORE_ENV, IniFile, find_ini, resolve_store

if TYPE_CHECKING:
    from pytest_datasetrun.store.runstore import RunStore

__all__ = (
    "EXIT_OK",
    "EXIT_REGRESSION",
    "EXIT_USAGE",
    "STORE_ENV",
    "STORE_HELP",
    "ini_file",
    "store_from_args",
)

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
STORE_HELP = (
    f"run store path (default: ${STORE_ENV}, else datasetrun_store from the pytest ini file, "
    "else .datasetrun/runs.json beside it; the ini file is found walking up as pytest does)"
)


def ini_file() -> IniFile:
    """The pytest ini file that applies to the current directory (pytest's rootdir rule)."""
    return find_ini(Path.cwd())


def store_from_args(args: argparse.Namespace) -> RunStore:
    """The store named by ``--run-store``, else ``$DATASETRUN_STORE``, else the ini, else the default.

    :param args: the parsed arguments.
    :returns: the store, resolved exactly as pytest resolves it for the same directory.
    """
    ini = ini_file()
    value = ini.get("datasetrun_store")
    path = resolve_store(
        getattr(args, "store", None),
        ini_value=str(value) if value else None,
        rootdir=ini.rootdir,
        cwd=Path.cwd(),
    )
    from pytest_datasetrun.store.runstore import open_store

    return open_store(path)
