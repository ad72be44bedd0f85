"""The ``pytest-datasetrun`` command."""

from __future__ import annotations

from pytest_datasetrun.cli.main import main

__all__ = ("main",)
