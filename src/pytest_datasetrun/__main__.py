"""``python -m pytest_datasetrun``: the same as the ``pytest-datasetrun`` command."""

from __future__ import annotations

import sys

from pytest_datasetrun.cli.main import main

__all__ = ()

if __name__ == "__main__":
    sys.exit(main())
