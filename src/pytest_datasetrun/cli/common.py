"""What every command shares: exit codes, the store option and its resolution."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pytest_datasetrun.store.runstore import DEFAULT_STORE, RunStore, open_store

__all__ = ("EXIT_OK", "EXIT_REGRESSION", "EXIT_USAGE", "STORE_ENV", "STORE_HELP", "store_from_args")

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
STORE_ENV = "DATASETRUN_STORE"
STORE_HELP = f"run store path (default: ${STORE_ENV} or {DEFAULT_STORE})"


def store_from_args(args: argparse.Namespace) -> RunStore:
    """The store named by ``--store``, else ``$DATASETRUN_STORE``, else the default.

    :param args: the parsed arguments.
    :returns: the store, relative paths resolved against the current directory.
    """
    path = getattr(args, "store", None) or os.environ.get(STORE_ENV) or DEFAULT_STORE
    return open_store(Path(path))
